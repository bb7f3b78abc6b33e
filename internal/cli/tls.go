package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/billkey/billkey/sqlstore"
)

// certReloader serves a certificate and key from files, reloading them when
// either file changes (checked at most every reloadEvery), so a renewed
// certificate (certbot, cert-manager) is picked up without a restart.
type certReloader struct {
	certFile, keyFile string

	mu        sync.Mutex
	cert      *tls.Certificate
	certMod   time.Time
	keyMod    time.Time
	checkedAt time.Time
}

const reloadEvery = 30 * time.Second

func newCertReloader(certFile, keyFile string) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile}
	if err := r.load(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *certReloader) load() error {
	cs, err := os.Stat(r.certFile)
	if err != nil {
		return fmt.Errorf("tls certificate: %w", err)
	}
	ks, err := os.Stat(r.keyFile)
	if err != nil {
		return fmt.Errorf("tls key: %w", err)
	}
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("tls certificate and key: %w", err)
	}
	r.cert, r.certMod, r.keyMod = &cert, cs.ModTime(), ks.ModTime()
	return nil
}

// GetCertificate implements tls.Config.GetCertificate. A failed reload keeps
// serving the previous certificate.
func (r *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.checkedAt) >= reloadEvery {
		r.checkedAt = now
		cs, err1 := os.Stat(r.certFile)
		ks, err2 := os.Stat(r.keyFile)
		if err1 == nil && err2 == nil && (!cs.ModTime().Equal(r.certMod) || !ks.ModTime().Equal(r.keyMod)) {
			_ = r.load()
		}
	}
	return r.cert, nil
}

// tlsConfig is the server TLS configuration for a certificate and key file.
func tlsConfig(certFile, keyFile string) (*tls.Config, error) {
	if (certFile == "") != (keyFile == "") {
		return nil, fmt.Errorf("--tls-cert and --tls-key go together")
	}
	r, err := newCertReloader(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.GetCertificate}, nil
}

// checkPublicURL guards live mode against a public URL that is not https:
// browsers post card authentications to it and INICIS sends buyers back to
// it. With an explicit master key (live channels allowed), a non-https URL
// is refused when the database has a live channel; without one yet, live
// channels stay disabled on this node until it restarts with an https URL.
// insecure overrides both (a deliberate, logged choice).
func checkPublicURL(ctx context.Context, store *sqlstore.Store, o *AppOptions, tlsOn, insecure bool) (warning string, err error) {
	if !o.AllowLive {
		return "", nil
	}
	public := o.PublicURL
	if public == "" {
		scheme := "http"
		if tlsOn {
			scheme = "https"
		}
		public = scheme + "://" + o.Addr
	}
	if u, perr := url.Parse(public); perr == nil && u.Scheme == "https" && u.Host != "" {
		return "", nil
	}
	if insecure {
		return fmt.Sprintf("live mode with the public URL %q, which is not https (--insecure-public-url): card authentications travel unencrypted", public), nil
	}
	live, err := hasLiveChannel(ctx, store)
	if err != nil {
		return "", err
	}
	advice := fmt.Sprintf("live mode needs an https --public-url (browsers send card authentications to it and INICIS returns buyers to it), not %q: "+
		"serve TLS with --tls-cert/--tls-key or run behind an HTTPS reverse proxy and set --public-url https://your.host; "+
		"--insecure-public-url overrides this check (for testing only)", public)
	if live {
		return "", fmt.Errorf("%s", advice)
	}
	o.NoLiveCharges = true
	return "live channels are disabled on this node until it restarts with an https public URL: " + advice, nil
}

func hasLiveChannel(ctx context.Context, store *sqlstore.Store) (bool, error) {
	ms, err := store.ListMerchants(ctx)
	if err != nil {
		return false, err
	}
	for _, m := range ms {
		chs, err := store.Channels(ctx, m.ID)
		if err != nil {
			return false, err
		}
		for _, ch := range chs {
			if ch.Live {
				return true, nil
			}
		}
	}
	return false, nil
}
