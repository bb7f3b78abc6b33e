package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// DefaultTimeout bounds one delivery attempt (connect, send, answer).
const DefaultTimeout = 15 * time.Second

// UserAgent is sent with every webhook.
const UserAgent = "billkey-webhook/1"

// Message is one webhook to send.
type Message struct {
	URL       string
	ID        string    // webhook-id, stable per event
	Timestamp time.Time // webhook-timestamp of this attempt
	Body      []byte
	// Keys are the HMAC keys of the merchant's valid secrets (newest first);
	// none means the webhook goes unsigned (the merchant has no secret yet).
	Keys [][]byte
}

// Result is the outcome of one attempt. Delivered is true only for a 2xx.
type Result struct {
	StatusCode int
	Latency    time.Duration
	Err        error
	// Body is an excerpt of the receiver's answer (see Excerpt): at most
	// ExcerptLimit bytes of valid UTF-8 without control characters.
	Body string
}

// Delivered reports whether the receiver took the webhook (HTTP 2xx).
func (r Result) Delivered() bool { return r.Err == nil && r.StatusCode >= 200 && r.StatusCode < 300 }

// Sender posts webhooks through a Guard. It is safe for concurrent use.
type Sender struct {
	client  *http.Client
	timeout time.Duration
}

// NewSender returns a Sender whose connections pass guard's checks and
// whose attempts last at most timeout (DefaultTimeout when zero).
func NewSender(guard *Guard, timeout time.Duration) *Sender {
	if guard == nil {
		guard = &Guard{}
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	dialer := &net.Dialer{Timeout: min(timeout, 10*time.Second), Control: guard.Control}
	tr := &http.Transport{
		Proxy:                 nil, // an environment proxy would bypass the guard
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       60 * time.Second,
		TLSHandshakeTimeout:   min(timeout, 10*time.Second),
		ResponseHeaderTimeout: timeout,
	}
	return &Sender{
		timeout: timeout,
		client: &http.Client{
			Transport: tr,
			// A redirect is not a delivery; never follow one.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// ErrBadURL is returned for a URL that is not absolute http(s).
var ErrBadURL = errors.New("webhook: URL must be absolute http:// or https://")

// CheckURL validates a webhook URL's shape (not its address; the Guard checks
// that when dialing).
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || len(raw) > 2048 {
		return ErrBadURL
	}
	return nil
}

// Send makes one attempt. Transport errors, refused addresses and timeouts
// are in Result.Err; any HTTP answer is in StatusCode.
func (s *Sender) Send(ctx context.Context, m Message) Result {
	start := time.Now()
	if err := CheckURL(m.URL); err != nil {
		return Result{Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL, bytes.NewReader(m.Body))
	if err != nil {
		return Result{Err: fmt.Errorf("webhook: request: %w", err)}
	}
	ts := m.Timestamp.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(HeaderID, m.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	if len(m.Keys) > 0 {
		req.Header.Set(HeaderSignature, SignatureHeader(m.Keys, m.ID, ts, m.Body))
	}
	res, err := s.client.Do(req)
	if err != nil {
		return Result{Latency: time.Since(start), Err: unwrapURLError(err)}
	}
	// Keep the start of the answer for the delivery log, then drain a
	// little more so the connection can be reused.
	head, _ := io.ReadAll(io.LimitReader(res.Body, ExcerptLimit+utf8.UTFMax))
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	return Result{StatusCode: res.StatusCode, Latency: time.Since(start), Body: Excerpt(head)}
}

// unwrapURLError drops url.Error's "Post <url>:" prefix (the URL is recorded
// next to the attempt anyway) but keeps the chain.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// ExcerptLimit bounds the excerpt of a receiver's answer kept per attempt.
const ExcerptLimit = 512

// Excerpt makes the start of a receiver's answer safe to store and show:
// invalid UTF-8 becomes U+FFFD, control characters (C0, DEL, C1 and
// bidirectional/format controls) are dropped except that tabs and line
// breaks become a space, surrounding space is trimmed, and the result is
// cut at a character boundary to at most ExcerptLimit bytes.
func Excerpt(b []byte) string {
	var sb strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			r = ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
			continue
		}
		if sb.Len()+utf8.RuneLen(r) > ExcerptLimit {
			break
		}
		sb.WriteRune(r)
	}
	return strings.TrimSpace(sb.String())
}
