// Package packaging holds no code, only the tests that keep what ships the action in step with the code:
// action.yml and the README's tables against the command line's inputs and outputs, the image tag against
// VERSION, the Dockerfile's rules, the release binary (static, and run in an empty root the way the scratch
// image runs it), every workflow and example through actionlint, and the Port JSON under examples/port
// against internal/roimodel.
//
// Files generated from the code (the README's tables and embedded workflow, examples/port) are refreshed with
//
//	go test ./internal/packaging -update
package packaging
