package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/api"
	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/jobs"
	"github.com/billkey/billkey/webhook"
)

// JobOptions configure the background work of a node: scheduled payments
// and webhook delivery. Zero values mean the defaults.
type JobOptions struct {
	// Disabled runs no background work on this node (an API-only node;
	// other nodes on the same database do it).
	Disabled bool
	// Owner is this node's lease-owner id (default jobs.NewOwner()).
	Owner string
	// PollInterval is how often idle queues look for due work (default 1s).
	PollInterval time.Duration
	// ScheduleLease is how long a node holds a schedule it runs; a dead
	// node's schedule is taken over after it (default 2m).
	ScheduleLease time.Duration
	// ScheduleRetryDelays are the waits before a schedule whose charge
	// outcome is unknown runs again (default 5s,15s,30s,1m,5m).
	ScheduleRetryDelays []time.Duration
	// StaleReadyAfter is how long a payment may stay ready before it counts
	// as left by a dead node (default 3m).
	StaleReadyAfter time.Duration
	// Concurrency is how many schedules, and how many webhooks, one node
	// works at once (default 8 each).
	Concurrency int
	// WebhookTimeout bounds one delivery attempt (default 15s).
	WebhookTimeout time.Duration
	// WebhookRetry and WebhookGiveUpAfter are the retry policy (default
	// webhook.DefaultRetryPolicy: 10s … 24h, for 3 days).
	WebhookRetry       []time.Duration
	WebhookGiveUpAfter time.Duration
	// WebhookAllowCIDRs are address ranges webhooks may reach although the
	// SSRF guard refuses them (private, loopback...). Loopback is always
	// allowed when live channels are not (test mode).
	WebhookAllowCIDRs []netip.Prefix
}

// apply configures the service's schedule and webhook settings.
func (o JobOptions) apply(svc *gateway.Service, allowLive bool) {
	svc.StaleReadyAfter = o.StaleReadyAfter
	svc.Schedules = gateway.ScheduleConfig{Lease: o.ScheduleLease, RetryDelays: o.ScheduleRetryDelays}
	guard := &webhook.Guard{AllowLoopback: !allowLive, Allow: o.WebhookAllowCIDRs}
	timeout := o.WebhookTimeout
	if timeout <= 0 {
		timeout = webhook.DefaultTimeout
	}
	svc.Webhooks = gateway.WebhookConfig{
		Sender: webhook.NewSender(guard, timeout),
		Retry:  webhook.RetryPolicy{Delays: o.WebhookRetry, GiveUpAfter: o.WebhookGiveUpAfter},
		Lease:  timeout + 45*time.Second,
	}
}

// runner builds (but does not start) the job runner of a node.
func (o JobOptions) runner(svc *gateway.Service, logger *slog.Logger, metrics *api.Metrics) *jobs.Runner {
	var queues []jobs.Queue
	if !o.Disabled {
		queues = []jobs.Queue{
			{Name: gateway.QueueSchedules, Claim: svc.ClaimSchedules, Concurrency: o.Concurrency, Interval: o.PollInterval},
			{Name: gateway.QueueWebhooks, Claim: svc.ClaimWebhooks, Concurrency: o.Concurrency, Interval: o.PollInterval},
			{Name: gateway.QueueMaintenance, Claim: svc.ClaimMaintenance, Concurrency: 1, Interval: gateway.MaintenanceInterval},
		}
	}
	var m *jobs.Metrics
	if metrics != nil {
		m = jobs.NewMetrics(metrics.Registry)
	}
	r := jobs.New(o.Owner, logger.With("component", "jobs"), m, queues...)
	svc.Wake = r.Wake
	return r
}

// jobFlags registers the background-work flags of billkey serve.
func jobFlags(fs *flag.FlagSet, o *JobOptions) {
	bindSetting(fs, "no-jobs", &o.Disabled)
	bindSetting(fs, "jobs-poll-interval", &o.PollInterval)
	bindSetting(fs, "schedule-lease", &o.ScheduleLease)
	bindSetting(fs, "stale-ready-after", &o.StaleReadyAfter)
	bindSetting(fs, "schedule-retry", delaysInto(&o.ScheduleRetryDelays))
	bindSetting(fs, "jobs-concurrency", &o.Concurrency)
	bindSetting(fs, "webhook-timeout", &o.WebhookTimeout)
	bindSetting(fs, "webhook-give-up-after", &o.WebhookGiveUpAfter)
	bindSetting(fs, "webhook-retry", delaysInto(&o.WebhookRetry))
	bindSetting(fs, "webhook-allow-cidr", func(v string) error {
		ps, err := webhook.ParsePrefixes(v)
		o.WebhookAllowCIDRs = ps
		return err
	})
}

func runWebhooks(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || !slices.Contains(groups["webhooks"].Subs, args[0]) {
		return groupUsage("webhooks", args, stdout, stderr)
	}
	fs, c := storeFlags("webhooks " + args[0])
	var impCode string
	fs.StringVar(&impCode, "merchant", "", "the merchant's imp code (required)")
	var run func(svc *gateway.Service, m *billkey.Merchant) error
	switch args[0] {
	case "list":
		var f billkey.DeliveryFilter
		var state string
		var asJSON bool
		fs.StringVar(&f.ImpUID, "imp-uid", "", "only deliveries of this imp_uid")
		fs.StringVar(&f.MerchantUID, "merchant-uid", "", "only deliveries of this merchant_uid")
		fs.StringVar(&state, "state", "", "only this state: pending, delivered, failed, skipped")
		fs.IntVar(&f.Limit, "limit", 20, "how many (newest first)")
		fs.BoolVar(&asJSON, "json", false, "print JSON lines")
		run = func(svc *gateway.Service, m *billkey.Merchant) error {
			f.MerchantID, f.State = m.ID, billkey.DeliveryState(state)
			if f.State != "" && !f.State.Valid() {
				return fmt.Errorf("unknown state %q", state)
			}
			ds, total, err := svc.WebhookDeliveries(ctx, f)
			if err != nil {
				return err
			}
			return printDeliveries(stdout, ds, total, asJSON)
		}
	case "resend":
		var id int64
		fs.Int64Var(&id, "id", 0, "the delivery id (from list)")
		run = func(svc *gateway.Service, m *billkey.Merchant) error {
			d, err := svc.ResendWebhook(ctx, m.ID, id)
			if err != nil {
				return fmt.Errorf("resend: %s", billkey.ErrorMessage(err))
			}
			fmt.Fprintf(stdout, "delivery %d (%s) is pending again; a running billkey node sends it within its poll interval\n",
				d.ID, gateway.WebhookID(d.EventID))
			return nil
		}
	case "secret":
		var overlap time.Duration
		fs.DurationVar(&overlap, "previous-valid-for", 24*time.Hour, "how long the previous secret keeps signing (0: drop it now)")
		run = func(svc *gateway.Service, m *billkey.Merchant) error {
			rs, err := svc.RotateWebhookSecret(ctx, m.ID, overlap)
			if err != nil {
				return fmt.Errorf("rotate: %s", billkey.ErrorMessage(err))
			}
			fmt.Fprintf(stdout, "new webhook signing secret of %s (shown only now; billkey keeps it sealed):\n  %s\n", m.ImpCode, rs.Secret)
			if !rs.PreviousValidUntil.IsZero() {
				fmt.Fprintf(stdout, "the previous secret keeps signing until %s\n", rs.PreviousValidUntil.Format(time.RFC3339))
			}
			return nil
		}
	case "url":
		var u string
		fs.StringVar(&u, "url", "", "the merchant's default notification URL (empty clears it)")
		run = func(svc *gateway.Service, m *billkey.Merchant) error {
			if err := svc.SetWebhookURL(ctx, m.ID, u); err != nil {
				return fmt.Errorf("url: %s", billkey.ErrorMessage(err))
			}
			fmt.Fprintf(stdout, "webhook URL of %s set to %q\n", m.ImpCode, u)
			return nil
		}
	case "notice-hosts":
		var set string
		var clear bool
		fs.StringVar(&set, "set", "", "replace the list: comma-separated hosts (host, host:port or *.domain)")
		fs.BoolVar(&clear, "clear", false, "empty the list (only the webhook URL's host stays allowed)")
		run = func(svc *gateway.Service, m *billkey.Merchant) error {
			hosts := m.NoticeHosts
			if set != "" || clear {
				if clear && set != "" {
					return fmt.Errorf("notice-hosts: --set or --clear, not both")
				}
				var list []string
				for _, h := range strings.Split(set, ",") {
					if h = strings.TrimSpace(h); h != "" {
						list = append(list, h)
					}
				}
				var err error
				if hosts, err = svc.SetNoticeHosts(ctx, m.ID, list); err != nil {
					return fmt.Errorf("notice-hosts: %s", billkey.ErrorMessage(err))
				}
				m.NoticeHosts = hosts
			}
			fmt.Fprintf(stdout, "hosts a payment window's notice_url may name for %s:\n", m.ImpCode)
			for _, h := range gateway.NoticeHosts(m) {
				fmt.Fprintf(stdout, "  %s\n", h)
			}
			return nil
		}
	default:
		return groupUsage("webhooks", args, stdout, stderr)
	}
	svc, _, err := setupChecked(ctx, fs, c, args[1:], stderr, func() error {
		if args[0] != "list" {
			return nil
		}
		c.resolve()
		return requireDatabase(c)
	}, args[0] == "list")
	if err != nil {
		return err
	}
	defer sqlStore(svc).Close()
	if impCode == "" {
		fmt.Fprintln(stderr, "--merchant is required")
		return errUsage
	}
	m, err := sqlStore(svc).MerchantByImpCode(ctx, impCode)
	if err != nil {
		return fmt.Errorf("merchant: %s", billkey.ErrorMessage(err))
	}
	return run(svc, m)
}

func printDeliveries(w io.Writer, ds []*billkey.WebhookDelivery, total int, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, d := range ds {
			attempts := make([]map[string]any, len(d.Log))
			for i, a := range d.Log {
				attempts[i] = map[string]any{"attempted_at": a.At.Unix(), "status_code": a.StatusCode,
					"latency_ms": a.Latency.Milliseconds(), "error": a.Error, "node": a.Node, "response_excerpt": a.Response}
			}
			if err := enc.Encode(map[string]any{
				"id": d.ID, "webhook_id": gateway.WebhookID(d.EventID), "imp_uid": d.ImpUID, "merchant_uid": d.MerchantUID,
				"status": d.Status, "url": d.URL, "state": d.State, "attempts": attempts,
			}); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "ID\tWEBHOOK-ID\tIMP_UID\tMERCHANT_UID\tSTATUS\tSTATE\tATTEMPTS\tURL\n")
	for _, d := range ds {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", d.ID, gateway.WebhookID(d.EventID), d.ImpUID, d.MerchantUID,
			d.Status, d.State, len(d.Log), d.URL)
		for _, a := range d.Log {
			fmt.Fprintf(tw, "\t  %s\tHTTP %d\t%dms\t%s\t%s\t\t\n", a.At.Format(time.RFC3339), a.StatusCode,
				a.Latency.Milliseconds(), strings.ReplaceAll(a.Error, "\t", " "), a.Node)
		}
	}
	fmt.Fprintf(tw, "(%d of %d)\n", len(ds), total)
	return tw.Flush()
}
