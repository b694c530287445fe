package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/port-roi/port-roi-action/internal/ghaction"
	"github.com/port-roi/port-roi-action/internal/input"
	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/portemu"
	"github.com/port-roi/port-roi-action/internal/roimodel"
)

// caFileName is the file --tls-dir writes the emulator's certificate to.
const caFileName = "ca.pem"

// setupActionID is the guide's self-service action that dispatches the workflow.
const setupActionID = "setup_new_action"

// emulatorOptions are the emulator command's flags.
type emulatorOptions struct {
	addr, clientID, clientSecret string
	empty                        bool
	tlsDir                       string
	hostnames                    []string
	dispatch                     string
}

func runEmulator(ctx context.Context, env Env, args []string) int {
	fs := newFlagSet("emulator", "serve the embedded Port emulator (an in-memory Port API) until interrupted, "+
		"so that the action, act or any Port client can be pointed at it with port-base-url", env)
	var o emulatorOptions
	fs.StringVar(&o.addr, "addr", "127.0.0.1:9300", "address to listen on; 0.0.0.0:9300 also serves containers, "+
		"which then need --tls-dir (the action accepts plain http on loopback addresses only)")
	fs.StringVar(&o.clientID, "client-id", portemu.DemoClientID, "client ID the emulator accepts")
	fs.StringVar(&o.clientSecret, "client-secret", portemu.DemoClientSecret, "client secret the emulator accepts")
	fs.BoolVar(&o.empty, "empty", false, "start without the guide's blueprints (as a fresh organisation)")
	fs.StringVar(&o.tlsDir, "tls-dir", "", "serve HTTPS with a new self-signed certificate and write it to DIR/"+caFileName+
		"; clients trust it with SSL_CERT_FILE=DIR/"+caFileName+". The certificate names localhost, the loopback "+
		"addresses, every address of this machine's interfaces (docker bridges included) and --hostname")
	fs.Func("hostname", "another DNS name or IP address for the TLS certificate (repeat the flag or separate with commas)",
		func(s string) error {
			for _, h := range strings.Split(s, ",") {
				if h = strings.TrimSpace(h); h != "" {
					o.hostnames = append(o.hostnames, h)
				}
			}
			return nil
		})
	fs.StringVar(&o.dispatch, "dispatch", "", "a workflow_dispatch payload file (e.g. examples/act/event.json): play Port "+
		"dispatching it, that is create its category and the guide's setup_new_action, run setup_new_action with the "+
		"payload's inputs, and serve that run under the payload's port_context runId too, so that the workflow can "+
		"report to it")
	if code, done := parseFlags(fs, args, env); done {
		return code
	}
	if o.dispatch != "" && o.empty {
		fmt.Fprintf(env.Stderr, "port-roi-action emulator: --dispatch needs the guide's blueprints; drop --empty\n")
		return ExitInput
	}
	var payload dispatchPayload
	if o.dispatch != "" {
		var err error
		if payload, err = readDispatchPayload(o.dispatch); err != nil {
			fmt.Fprintf(env.Stderr, "port-roi-action emulator: --dispatch: %v\n", err)
			return ExitInput
		}
	}

	opts := []portemu.Option{portemu.WithCredentials(o.clientID, o.clientSecret)}
	if !o.empty {
		opts = append(opts, portemu.WithBlueprints(roimodel.Blueprints()...))
	}
	emu := portemu.New(opts...)
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		fmt.Fprintf(env.Stderr, "port-roi-action emulator: %v\n", err)
		return ExitInput
	}
	local := loopbackURLHost(ln.Addr().(*net.TCPAddr))

	scheme, seedClient := "http", &http.Client{}
	var cert *emulatorCertificate
	if o.tlsDir != "" {
		if cert, err = newEmulatorCertificate(o.hostnames, env.Now()); err != nil {
			ln.Close()
			fmt.Fprintf(env.Stderr, "port-roi-action emulator: %v\n", err)
			return ExitFailure
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert.tls}, MinVersion: tls.VersionTLS12})
		scheme = "https"
		seedClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cert.pool, MinVersion: tls.VersionTLS12}}}
	}
	baseURL := scheme + "://" + local

	alias := &runAlias{next: emu}
	srv := &http.Server{Handler: alias, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	stop := func() int {
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(env.Stderr, "port-roi-action emulator: %v\n", err)
			return ExitFailure
		}
		return ExitOK
	}

	// Everything a client needs is in place before the certificate file appears and the banner is printed:
	// scripts wait for either to know the emulator is ready.
	var dispatched port.Run
	if o.dispatch != "" {
		client, err := port.New(baseURL, port.Credentials{ClientID: o.clientID, ClientSecret: o.clientSecret},
			port.WithUserAgent("port-roi-action/"+Version+" (emulator)"), port.WithHTTPClient(seedClient))
		if err == nil {
			seedCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
			dispatched, err = payload.play(seedCtx, client)
			cancel()
		}
		if err != nil {
			stop()
			fmt.Fprintf(env.Stderr, "port-roi-action emulator: --dispatch %s: %v\n", o.dispatch, err)
			return ExitFailure
		}
		alias.set(payload.runID, dispatched.ID)
	}
	var caPath string
	if cert != nil {
		if caPath, err = cert.write(o.tlsDir); err != nil {
			stop()
			fmt.Fprintf(env.Stderr, "port-roi-action emulator: %v\n", err)
			return ExitFailure
		}
	}
	printBanner(env, o, ln.Addr().(*net.TCPAddr), scheme, baseURL, cert, caPath, payload, dispatched)

	select {
	case err := <-errc:
		fmt.Fprintf(env.Stderr, "port-roi-action emulator: %v\n", err)
		return ExitFailure
	case <-ctx.Done():
	}
	code := stop()
	if dispatched.ID != "" {
		printRunLog(env, emu, dispatched.ID)
	}
	return code
}

// printBanner tells the user everything needed to point a client at the emulator.
func printBanner(env Env, o emulatorOptions, addr *net.TCPAddr, scheme, baseURL string, cert *emulatorCertificate,
	caPath string, payload dispatchPayload, run port.Run) {
	w := env.Stdout
	secret := "(as given with --client-secret)"
	if o.clientSecret == portemu.DemoClientSecret {
		secret = portemu.DemoClientSecret + "   (the public demo value)"
	}
	fmt.Fprintf(w, "Port emulator (port-roi-action %s) listening on %s\n", Version, addr)
	fmt.Fprintf(w, "  port-base-url   %s\n", baseURL)
	if addr.IP.IsUnspecified() {
		var others []string
		for _, ip := range interfaceIPs() {
			if !ip.IsLoopback() && !ip.IsLinkLocalUnicast() {
				others = append(others, scheme+"://"+net.JoinHostPort(ip.String(), strconv.Itoa(addr.Port)))
			}
		}
		if len(others) > 0 {
			fmt.Fprintf(w, "  also at         %s (from containers: the docker network's gateway)\n", strings.Join(others, ", "))
		}
	}
	fmt.Fprintf(w, "  client id       %s\n", o.clientID)
	fmt.Fprintf(w, "  client secret   %s\n", secret)
	if cert != nil {
		fmt.Fprintf(w, "  TLS certificate %s (trust it with SSL_CERT_FILE=%s)\n", caPath, caPath)
		fmt.Fprintf(w, "  certificate for %s\n", strings.Join(cert.names, ", "))
	}
	if o.empty {
		fmt.Fprintf(w, "  data model      Port's system blueprints only (--empty)\n")
	} else {
		fmt.Fprintf(w, "  data model      the guide's blueprints %s, %s and %s\n",
			roimodel.CategoriesBlueprint, roimodel.ActionBlueprint, roimodel.ActionRunBlueprint)
	}
	if run.ID != "" {
		fmt.Fprintf(w, "  dispatched      run %s of %s for %s (category %s)\n", run.ID, setupActionID,
			input.Quote(payload.title), input.Quote(payload.category))
		if payload.runID != "" && payload.runID != run.ID {
			fmt.Fprintf(w, "                  served as run %s too, the runId of the payload's port_context\n", input.Quote(payload.runID))
		}
	}
	fmt.Fprintf(w, "Stop it with Ctrl-C.\n")
}

// printRunLog prints what the workflow reported to the dispatched run.
func printRunLog(env Env, emu *portemu.Server, runID string) {
	logs := emu.RunLogs(runID)
	fmt.Fprintf(env.Stdout, "Port run log of %s (%d lines):\n", runID, len(logs))
	for _, l := range logs {
		for _, line := range strings.Split(l.Message, "\n") {
			fmt.Fprintf(env.Stdout, "  | %s\n", ghaction.SanitizeLine(line))
		}
	}
}

// loopbackURLHost is the host:port a client on this machine uses to reach a listener: the listener's own
// address, or the loopback address when it listens on every address.
func loopbackURLHost(a *net.TCPAddr) string {
	ip := a.IP
	switch {
	case ip == nil || ip.Equal(net.IPv4zero):
		ip = net.IPv4(127, 0, 0, 1)
	case ip.Equal(net.IPv6unspecified):
		ip = net.IPv6loopback
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(a.Port))
}

// interfaceIPs lists the addresses of this machine's network interfaces, docker bridges included.
func interfaceIPs() []net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []net.IP
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			out = append(out, n.IP)
		}
	}
	return out
}

// emulatorCertificate is a self-signed certificate made afresh for one emulator run. Its private key stays
// in memory; only the certificate is written, for clients to trust.
type emulatorCertificate struct {
	tls   tls.Certificate
	pem   []byte
	pool  *x509.CertPool
	names []string
}

// newEmulatorCertificate makes a certificate for localhost, the loopback addresses, every interface address
// of this machine and the extra hostnames (DNS names or IP addresses). It is its own CA: a client that trusts
// it (SSL_CERT_FILE) verifies the server against it directly. A docker action reaches the emulator through its
// network's gateway, which is an interface of this machine, so it is in the certificate.
func newEmulatorCertificate(hostnames []string, now time.Time) (*emulatorCertificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tls key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("tls serial number: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "port-roi-action emulator"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	addIP := func(ip net.IP) {
		if !slices.ContainsFunc(tmpl.IPAddresses, ip.Equal) {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		}
	}
	for _, ip := range interfaceIPs() {
		if !ip.IsLinkLocalUnicast() { // fe80::/10 needs a zone, which a certificate cannot name
			addIP(ip)
		}
	}
	for _, h := range hostnames {
		if ip := net.ParseIP(strings.Trim(h, "[]")); ip != nil {
			addIP(ip)
		} else if !slices.Contains(tmpl.DNSNames, h) {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("tls certificate: %w", err)
	}
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("tls certificate: %w", err)
	}
	c := &emulatorCertificate{
		tls:  tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: parsed},
		pem:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pool: x509.NewCertPool(),
	}
	c.pool.AddCert(parsed)
	c.names = append(c.names, tmpl.DNSNames...)
	for _, ip := range tmpl.IPAddresses {
		c.names = append(c.names, ip.String())
	}
	return c, nil
}

// write writes the certificate to dir/ca.pem and returns its absolute path. The file appears whole (written
// beside, then renamed), so a script may wait for it as the sign that the emulator is ready.
func (c *emulatorCertificate) write(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("--tls-dir: %w", err)
	}
	path, err := filepath.Abs(filepath.Join(dir, caFileName))
	if err != nil {
		return "", fmt.Errorf("--tls-dir: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, c.pem, 0o644); err != nil { // a certificate, public: any user may read it
		return "", fmt.Errorf("--tls-dir: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("--tls-dir: %w", err)
	}
	return path, nil
}

// dispatchPayload is what --dispatch takes from a workflow_dispatch payload: the inputs Port would have
// rendered from a run of setup_new_action.
type dispatchPayload struct {
	title         string
	category      string
	categoryTitle string
	leadTime      *float64
	cycleTime     *float64
	runID         string // the payload's port_context runId, "" when it has none
}

// readDispatchPayload reads the payload file the way the action reads $GITHUB_EVENT_PATH, and checks its
// inputs the way the action does.
func readDispatchPayload(path string) (dispatchPayload, error) {
	getenv := func(k string) string {
		if k == "GITHUB_EVENT_PATH" {
			return path
		}
		return ""
	}
	inputs, err := ghaction.New(getenv, nil).DispatchInputs()
	if err != nil {
		return dispatchPayload{}, err
	}
	var p dispatchPayload
	var errs []error
	if p.title = strings.TrimSpace(inputs["actionTitle"]); p.title == "" {
		errs = append(errs, &input.Error{Name: "actionTitle", Expected: "the payload's inputs need an actionTitle"})
	}
	p.category, err = input.Category("category", inputs["category"])
	errs = append(errs, err)
	var obj struct {
		Title string `json:"title"`
	}
	if json.Unmarshal([]byte(inputs["category"]), &obj) == nil && obj.Title != "" {
		p.categoryTitle = obj.Title
	}
	p.leadTime, err = input.Hours("lead_time_before", inputs["lead_time_before"])
	errs = append(errs, err)
	p.cycleTime, err = input.Hours("cycle_time", inputs["cycle_time"])
	errs = append(errs, err)
	p.runID, err = input.RunID("port_context", inputs["port_context"])
	errs = append(errs, err)
	return p, errors.Join(errs...)
}

// play does what Port does before it dispatches the workflow: the category entity and setup_new_action exist,
// and a user runs setup_new_action with the payload's inputs. It returns that run.
func (p dispatchPayload) play(ctx context.Context, c *port.Client) (port.Run, error) {
	title := p.categoryTitle
	if title == "" {
		title = p.category
	}
	if _, err := c.UpsertEntity(ctx, roimodel.CategoriesBlueprint, port.Entity{Identifier: p.category, Title: title},
		port.UpsertOptions{Merge: true}); err != nil {
		return port.Run{}, fmt.Errorf("create category %q: %w", p.category, err)
	}
	if _, err := c.CreateAction(ctx, roimodel.SetupAction()); err != nil {
		return port.Run{}, fmt.Errorf("create %s: %w", setupActionID, err)
	}
	props := map[string]any{"actionTitle": p.title, "category": p.category}
	if p.leadTime != nil {
		props["lead_time_before"] = *p.leadTime
	}
	if p.cycleTime != nil {
		props["cycle_time"] = *p.cycleTime
	}
	run, err := c.CreateRun(ctx, setupActionID, props)
	if err != nil {
		return port.Run{}, fmt.Errorf("run %s: %w", setupActionID, err)
	}
	return run, nil
}

// runAlias serves a run under a second id: the emulator makes its own run ids, while a payload written ahead
// of time (examples/act/event.json) names a fixed one. Requests for /v1/actions/runs/<alias>[/…] and for
// run_id=<alias> go to the emulator's run.
type runAlias struct {
	next http.Handler

	mu            sync.RWMutex // set is called while the server already answers the dispatch's own requests
	alias, target string
}

func (a *runAlias) set(alias, target string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if alias != target {
		a.alias, a.target = alias, target
	}
}

func (a *runAlias) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.RLock()
	alias, target := a.alias, a.target
	a.mu.RUnlock()
	if alias == "" {
		a.next.ServeHTTP(w, r)
		return
	}
	segs := strings.Split(r.URL.EscapedPath(), "/")
	pathHit := len(segs) > 4 && segs[1] == "v1" && segs[2] == "actions" && segs[3] == "runs" && segs[4] == url.PathEscape(alias)
	q := r.URL.Query()
	queryHit := q.Get("run_id") == alias
	if !pathHit && !queryHit {
		a.next.ServeHTTP(w, r)
		return
	}
	r = r.Clone(r.Context())
	if pathHit {
		segs[4] = url.PathEscape(target)
		escaped := strings.Join(segs, "/")
		if p, err := url.PathUnescape(escaped); err == nil {
			r.URL.Path, r.URL.RawPath = p, escaped
		}
	}
	if queryHit {
		q.Set("run_id", target)
		r.URL.RawQuery = q.Encode()
	}
	a.next.ServeHTTP(w, r)
}
