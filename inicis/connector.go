package inicis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/billkey/billkey"
)

// Endpoints are the INICIS URLs one kind of channel talks to. Live channels
// (PGChannel.Live) use Config.Live, test channels Config.Test.
type Endpoints struct {
	// INIAPI is the origin of the server APIs (billing, refund, inquiry),
	// e.g. "https://iniapi.inicis.com".
	INIAPI string
	// StdPayJS is the URL of INIStdPay.js, which a merchant page loads and
	// calls as INIStdPay.pay(formId) to open the PC window.
	StdPayJS string
	// StdPayWindow is where the StdPay form can be posted directly. INICIS's
	// own window opens only through INIStdPay.js, so it is "" for INICIS
	// hosts; the simulator sets it (its INIStdPay.js posts there too).
	StdPayWindow string
	// StdPayIDC maps the idc_name posted to returnUrl ("fc", "ks", "stg")
	// to the origin of the approval servers. authUrl and netCancelUrl must be
	// exactly origin+"/api/payAuth" and origin+"/api/netCancel" of the
	// posted idc_name; anything else is refused (SSRF guard).
	StdPayIDC map[string]string
	// LiteCard is the legacy INILite mobile card-billing window.
	LiteCard string
	// Receipt is the card-receipt URL prefix; the query-escaped tid is
	// appended. "" leaves ReceiptURL empty.
	Receipt string
}

// ProductionEndpoints returns INICIS's production hosts. The receipt URL is
// INICIS's well-known card receipt page (not in INICIS's API documents).
func ProductionEndpoints() Endpoints {
	return Endpoints{
		INIAPI:   "https://iniapi.inicis.com",
		StdPayJS: "https://stdpay.inicis.com/stdjs/INIStdPay.js",
		StdPayIDC: map[string]string{
			"fc":  "https://fcstdpay.inicis.com",
			"ks":  "https://ksstdpay.inicis.com",
			"stg": "https://stgstdpay.inicis.com",
		},
		LiteCard: "https://inilite.inicis.com/inibill/inibill_card.jsp",
		Receipt:  "https://iniweb.inicis.com/DefaultWebApp/mall/cr/cm/mCmReceipt_head.jsp?noMethod=1&noTid=",
	}
}

// StagingEndpoints returns INICIS's staging hosts (stginiapi, stgstdpay).
// Which test MIDs are live there is unknown; the official samples
// use ProductionEndpoints with the public test MIDs.
func StagingEndpoints() Endpoints {
	e := ProductionEndpoints()
	e.INIAPI = "https://stginiapi.inicis.com"
	e.StdPayJS = "https://stgstdpay.inicis.com/stdjs/INIStdPay.js"
	return e
}

// SimulatorEndpoints returns the endpoints of an inicissim.Simulator served at
// baseURL (e.g. "http://127.0.0.1:9090" or "https://billkey.example/inicis-sim").
// baseURL must be the URL browsers and billkey both use to reach it: the
// simulator builds authUrl and netCancelUrl from it, and they must match.
// The simulator answers as INICIS's three approval data centres (idc_name
// fc, ks and stg, in turn): stg at baseURL itself, fc and ks under
// baseURL+"/idc/fc" and "/idc/ks", so the authUrl allow-list is exercised
// for each.
func SimulatorEndpoints(baseURL string) Endpoints {
	base := strings.TrimRight(baseURL, "/")
	return Endpoints{
		INIAPI:       base,
		StdPayJS:     base + "/stdjs/INIStdPay.js",
		StdPayWindow: base + "/stdpay/window",
		StdPayIDC:    map[string]string{"fc": base + "/idc/fc", "ks": base + "/idc/ks", "stg": base},
		LiteCard:     base + "/inibill/inibill_card.jsp",
		Receipt:      base + "/receipt?noTid=",
	}
}

// Config configures a Connector.
type Config struct {
	// Test and Live are the endpoints for test and live channels.
	Test, Live Endpoints
	// HTTPClient sends the server-to-server calls. Nil means a private
	// client. Redirects are never followed.
	HTTPClient *http.Client
	// Timeout bounds each INICIS call (default 30s). A call that times out
	// after its request was written fails with EUNCERTAIN.
	Timeout time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives one line per call, never with keys, card data or
	// secrets (default: discard).
	Logger *slog.Logger
	// ClientIP is sent as clientIp when a request has none (default
	// "127.0.0.1").
	ClientIP string
	// SiteURL is sent as url with INIAPI billing calls when set.
	SiteURL string
	// InquiryNotFoundCodes are the inquiry resultCodes that mean "no such
	// order" (default: InquiryNotFoundCode, the simulator's). INICIS's own
	// code is not public: add it here once observed. Any other refusal is
	// an error, never "not found".
	InquiryNotFoundCodes []string
}

// Connector is the KG INICIS client. It implements billkey.PG over INIAPI and
// offers the INIStdPay and INILite window protocols. It is safe for concurrent
// use.
type Connector struct {
	cfg    Config
	client *http.Client
	log    *slog.Logger
}

var _ billkey.PG = (*Connector)(nil)

// maxIdleConns bounds the idle keep-alive connections kept to the PG.
const maxIdleConns = 256

// New returns a Connector.
func New(cfg Config) *Connector {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if len(cfg.InquiryNotFoundCodes) == 0 {
		cfg.InquiryNotFoundCodes = []string{InquiryNotFoundCode}
	}
	if cfg.ClientIP == "" {
		cfg.ClientIP = "127.0.0.1"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var client http.Client
	if cfg.HTTPClient != nil {
		client = *cfg.HTTPClient
	} else {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		// Every charge goes to the same few INICIS hosts: keep as many
		// idle connections per host as charges run at once, or each
		// charge beyond the default two dials a new one.
		tr.MaxIdleConns, tr.MaxIdleConnsPerHost = maxIdleConns, maxIdleConns
		client.Transport = tr
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Connector{cfg: cfg, client: &client, log: log}
}

// endpoints picks the endpoints of a channel.
func (c *Connector) endpoints(ch billkey.PGChannel) (Endpoints, error) {
	e := c.cfg.Test
	if ch.Live {
		e = c.cfg.Live
	}
	if e.INIAPI == "" {
		mode := "test"
		if ch.Live {
			mode = "live"
		}
		return e, fmt.Errorf("inicis: no %s endpoints configured", mode)
	}
	if ch.MID == "" {
		return e, errors.New("inicis: channel has no MID")
	}
	return e, nil
}

// channel picks a channel's endpoints and parses its credentials: the
// prelude of every call that signs a request.
func (c *Connector) channel(ch billkey.PGChannel) (Endpoints, Credentials, error) {
	e, err := c.endpoints(ch)
	if err != nil {
		return e, Credentials{}, err
	}
	cr, err := credentialsOf(ch)
	return e, cr, err
}

func (c *Connector) clientIP(ip string) string {
	if ip != "" {
		return ip
	}
	return c.cfg.ClientIP
}

func (c *Connector) receiptURL(e Endpoints, tid string) string {
	if e.Receipt == "" || tid == "" {
		return ""
	}
	return e.Receipt + url.QueryEscape(tid)
}

const maxReply = 1 << 20

// postForm posts a form-urlencoded body (INIAPI v1, StdPay approval).
func (c *Connector) postForm(ctx context.Context, op, rawURL string, form url.Values) (Reply, error) {
	return c.post(ctx, op, rawURL, "application/x-www-form-urlencoded; charset=utf-8", []byte(form.Encode()))
}

// post sends one INICIS call and classifies its failure: nothing written →
// EPG (ErrNotSent); written but no usable reply → EUNCERTAIN (ErrNoReply).
// A parsed reply with a resultCode is returned as is for the caller to judge.
func (c *Connector) post(ctx context.Context, op, rawURL, contentType string, body []byte) (Reply, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				wrote.Store(true)
			}
		},
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, strings.NewReader(string(body)))
	if err != nil {
		return nil, notSent(op, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "billkey-inicis/1")
	start := c.cfg.Now()
	resp, err := c.client.Do(req)
	if err != nil {
		c.log.LogAttrs(ctx, slog.LevelWarn, "inicis call failed", slog.String("op", op), slog.String("host", req.URL.Host),
			slog.Bool("sent", wrote.Load()), slog.String("error", err.Error()))
		if !wrote.Load() {
			return nil, notSent(op, err)
		}
		return nil, noReply(op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxReply))
	if err != nil {
		return nil, noReply(op, fmt.Errorf("reading reply: %w", err))
	}
	reply, perr := ParseReply(data)
	if perr == nil && reply.Get("resultCode", "resultcode", "ResultCode") == "" {
		perr = errors.New("reply has no resultCode")
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "inicis call", slog.String("op", op), slog.String("host", req.URL.Host),
		slog.Int("status", resp.StatusCode), slog.String("resultCode", reply.Get("resultCode", "resultcode", "ResultCode")),
		slog.Duration("took", c.cfg.Now().Sub(start)))
	switch {
	case perr == nil:
		return reply, nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		return nil, &billkey.Error{
			Code:    billkey.EPG,
			Message: fmt.Sprintf("PG사가 요청을 거절했습니다. (HTTP %d)", resp.StatusCode),
			Err:     fmt.Errorf("%s: HTTP %d: %w", op, resp.StatusCode, perr),
		}
	case resp.StatusCode == http.StatusServiceUnavailable:
		// 503 is a server (or its load balancer) declining to process the
		// request: nothing was approved, the caller may fail the order.
		// Other 5xx without a reply (500, 502, 504) may come after the
		// request was handled, so their outcome stays unknown.
		return nil, &billkey.Error{
			Code:    billkey.EPG,
			Message: "PG사가 요청을 처리하지 않았습니다 (HTTP 503 서비스 불가). 승인·취소된 내용이 없으니 다시 시도할 수 있습니다. (PG refused to process the request; nothing was done)",
			Err:     fmt.Errorf("%s: %w: HTTP 503: %w", op, ErrRefused, perr),
		}
	default:
		return nil, noReply(op, fmt.Errorf("HTTP %d: %w", resp.StatusCode, perr))
	}
}

// resultOf returns the result code and message of a reply (INIAPI and
// StdPay use resultCode/resultMsg; legacy INILite lowercase).
func resultOf(r Reply) (code, msg string) {
	return r.Get("resultCode", "resultcode", "ResultCode"), r.Get("resultMsg", "resultmsg", "resultMessage", "ResultMsg")
}

// refusal builds the ResultError of a non-success reply.
func refusal(op string, r Reply) *ResultError {
	code, msg := resultOf(r)
	return &ResultError{Op: op, Code: code, Message: msg, DetailCode: r.Get("detailResultCode"), TID: r.Get("tid")}
}
