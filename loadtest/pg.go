package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/inicis"
)

// pgClient is the simulator's test account as billkey's connector sees it,
// with one billing key issued for the run.
type pgClient struct {
	conn    *inicis.Connector
	channel billkey.PGChannel
	key     string
}

func newPGClient(ctx context.Context, simURL, runID string) (*pgClient, error) {
	c := &pgClient{
		conn:    inicis.New(inicis.Config{Test: inicis.SimulatorEndpoints(simURL), Timeout: 30 * time.Second}),
		channel: billkey.PGChannel{Provider: billkey.ProviderHTML5Inicis, MID: gateway.TestMID, Credentials: gateway.TestChannelCredentials},
	}
	k, err := c.conn.IssueBillingKey(ctx, c.channel, billkey.IssueRequest{
		OrderID: runID + "-key", GoodName: "load test",
		Card: billkey.Card{Number: "4242424242424242", Expiry: "2030-12", Birth: "880101", Pwd2Digit: "12"},
	})
	if err != nil {
		return nil, fmt.Errorf("issue a key at the simulator: %w", err)
	}
	c.key = k.Key
	return c, nil
}

// request builds billkey's exact INIAPI billing request for an order.
func (c *pgClient) request(orderID string, amount int64) (string, url.Values, error) {
	return c.conn.BillingRequest(c.channel, billkey.ChargeRequest{
		OrderID: orderID, BillingKey: c.key, Amount: amount, Currency: "KRW", GoodName: "load test",
		Buyer: billkey.Buyer{Name: "홍길동", Email: "load@example.com", Tel: "010-0000-0000"},
	})
}

// approved reports whether an INIAPI reply body is an approval.
func approved(body []byte) (bool, string) {
	var r map[string]any
	if err := json.Unmarshal(body, &r); err != nil {
		return false, "bad INIAPI reply"
	}
	if code := fmt.Sprint(r["resultCode"]); code != "00" {
		return false, "resultCode " + code
	}
	return true, ""
}

// newPGTarget drives the simulator's billing endpoint directly.
func newPGTarget(ctx context.Context, cfg Config, runID string) (*target, error) {
	c, err := newPGClient(ctx, cfg.SimURL, runID)
	if err != nil {
		return nil, err
	}
	var seq counter
	header := http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}
	return &target{name: PhasePG,
		next: func(t *vegeta.Target) error {
			endpoint, form, err := c.request(fmt.Sprintf("%s-pg-%d", runID, seq.next()), cfg.Amount)
			if err != nil {
				return err
			}
			*t = vegeta.Target{Method: "POST", URL: endpoint, Body: []byte(form.Encode()), Header: header}
			return nil
		},
		judge: func(res *vegeta.Result) (bool, string) {
			if kind := transportError(res); kind != "" {
				return false, kind
			}
			return approved(res.Body)
		},
	}, nil
}

// postForm sends one INIAPI request (the baseline's PG round trip).
func postForm(ctx context.Context, client *http.Client, endpoint string, form url.Values) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	return io.ReadAll(res.Body)
}
