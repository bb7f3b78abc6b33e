package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/jobs"
	"github.com/billkey/billkey/webhook"
)

// WebhookConfig configures webhook delivery.
type WebhookConfig struct {
	// Sender makes the HTTP attempts; nil means a strict live-mode sender
	// (webhook.NewSender with a zero Guard and the default timeout).
	Sender *webhook.Sender
	// Retry is the retry policy; zero means webhook.DefaultRetryPolicy
	// (3 days).
	Retry webhook.RetryPolicy
	// Lease is how long a node holds a claimed delivery (default 1 minute;
	// it must exceed the sender's timeout).
	Lease time.Duration
	// SecretOverlap is how long a rotated-out secret keeps signing
	// (default 24 hours).
	SecretOverlap time.Duration
	// RelayBatch is how many outbox events one poll turns into deliveries
	// (default 500).
	RelayBatch int
}

func (c *WebhookConfig) retry() webhook.RetryPolicy {
	r := c.Retry
	if len(r.Delays) == 0 {
		r.Delays = webhook.DefaultRetryPolicy.Delays
	}
	if r.GiveUpAfter <= 0 {
		r.GiveUpAfter = webhook.DefaultRetryPolicy.GiveUpAfter
	}
	return r
}

func (c *WebhookConfig) lease() time.Duration {
	if c.Lease > 0 {
		return c.Lease
	}
	return time.Minute
}

// defaultSender is used when WebhookConfig.Sender is nil.
var defaultSender = webhook.NewSender(&webhook.Guard{}, 0)

func (c *WebhookConfig) sender() *webhook.Sender {
	if c.Sender != nil {
		return c.Sender
	}
	return defaultSender
}

// WebhookID is the webhook-id of an outbox event: stable across attempts
// and resends, so receivers can deduplicate.
func WebhookID(eventID int64) string { return "evt_" + strconv.FormatInt(eventID, 10) }

// webhookBody is the body i'mport posts ({imp_uid, merchant_uid, status}, docs/webhooks.md), keys in its order.
type webhookBody struct {
	ImpUID      *string `json:"imp_uid"`
	MerchantUID string  `json:"merchant_uid"`
	Status      string  `json:"status"`
}

// WebhookBody returns the JSON body of a webhook. imp_uid is null for a
// schedule that failed before any payment was made.
func WebhookBody(impUID, merchantUID string, status billkey.PaymentStatus) []byte {
	b, _ := json.Marshal(webhookBody{ImpUID: nilIfEmpty(impUID), MerchantUID: merchantUID, Status: string(status)})
	return b
}

func nilIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ClaimWebhooks is the webhooks queue's claim function: it first turns new
// outbox events into deliveries, then leases due deliveries to owner and
// returns a job sending each.
func (s *Service) ClaimWebhooks(ctx context.Context, owner string, limit int) ([]jobs.Job, error) {
	batch := s.Webhooks.RelayBatch
	if batch <= 0 {
		batch = 500
	}
	policy := s.Webhooks.retry()
	if _, err := s.Store.RelayEvents(ctx, batch, func(ev billkey.RelayedEvent) billkey.NewDelivery {
		return buildDelivery(ev, s.Now(), policy)
	}); err != nil {
		return nil, err
	}
	now := s.Now()
	ds, err := s.Store.ClaimDueDeliveries(ctx, owner, now, now.Add(s.Webhooks.lease()), limit)
	if err != nil {
		return nil, err
	}
	out := make([]jobs.Job, len(ds))
	for i, d := range ds {
		out[i] = jobs.Job{Key: fmt.Sprintf("webhook delivery %d", d.ID), Run: func(ctx context.Context) {
			if err := s.deliver(ctx, owner, d); err != nil {
				s.Logger.Error("webhook: recording an attempt failed", "delivery_id", d.ID, "error", err)
			}
		}}
	}
	return out, nil
}

// buildDelivery decides where an event goes: its notice_url, else the
// merchant's URL; with neither, or for a checking_amount approval, the
// delivery is recorded as skipped.
func buildDelivery(ev billkey.RelayedEvent, now time.Time, policy webhook.RetryPolicy) billkey.NewDelivery {
	d := billkey.NewDelivery{
		URL:      ev.NoticeURL,
		Body:     WebhookBody(ev.ImpUID, ev.MerchantUID, ev.Status),
		State:    billkey.DeliveryPending,
		GiveUpAt: now.Add(policy.GiveUpAfter),
	}
	if d.URL == "" {
		d.URL = ev.MerchantWebhookURL
	}
	if ev.Payload != "" { // a subscription.* event
		d.Body = []byte(ev.Payload)
	}
	switch {
	case strings.HasPrefix(ev.MerchantUID, CheckOrderPrefix):
		d.State, d.Note = billkey.DeliverySkipped, "checking_amount approval: not notified"
	case d.URL == "":
		d.State, d.Note = billkey.DeliverySkipped, "no webhook URL (notice_url or PUT /webhooks/url)"
	}
	return d
}

// deliver makes one attempt of a claimed delivery and records it.
func (s *Service) deliver(ctx context.Context, owner string, d *billkey.WebhookDelivery) error {
	now := s.Now()
	msg := webhook.Message{URL: d.URL, ID: WebhookID(d.EventID), Timestamp: now, Body: d.Body}
	res := webhook.Result{}
	secrets, _, err := s.Store.WebhookSecrets(ctx, d.MerchantID, now)
	if err == nil {
		for _, sec := range secrets {
			k, kerr := webhook.DecodeSecret(sec)
			if kerr != nil {
				err = kerr
				break
			}
			msg.Keys = append(msg.Keys, k)
		}
	}
	if err != nil {
		// Never send unsigned when the merchant has a secret we cannot use.
		s.Logger.Error("webhook: signing secret unavailable", "merchant_id", d.MerchantID, "error", err)
		res.Err = fmt.Errorf("signing secret unavailable")
	} else {
		res = s.Webhooks.sender().Send(ctx, msg)
	}
	a := billkey.WebhookAttempt{At: now, StatusCode: res.StatusCode, Latency: res.Latency, Node: owner, Response: res.Body}
	var o billkey.AttemptOutcome
	switch {
	case res.Delivered():
		o.Delivered = true
	case res.Err != nil:
		a.Error = res.Err.Error()
	default:
		a.Error = fmt.Sprintf("HTTP %d", res.StatusCode)
	}
	if !o.Delivered {
		o.Next, _ = s.Webhooks.retry().Next(d.Attempts+1, s.Now(), d.GiveUpAt)
	}
	level := s.Logger.Info
	if !o.Delivered {
		level = s.Logger.Warn
	}
	level("webhook attempt", "delivery_id", d.ID, "webhook_id", msg.ID, "imp_uid", d.ImpUID, "status_code", res.StatusCode,
		"latency", res.Latency, "error", a.Error, "attempt", d.Attempts+1, "delivered", o.Delivered,
		"gave_up", !o.Delivered && o.Next.IsZero())
	return s.Store.RecordWebhookAttempt(context.WithoutCancel(ctx), d, owner, a, o)
}

// WebhookDeliveries lists a merchant's deliveries (newest first) with their
// attempts.
func (s *Service) WebhookDeliveries(ctx context.Context, f billkey.DeliveryFilter) ([]*billkey.WebhookDelivery, int, error) {
	return s.Store.ListDeliveries(ctx, f)
}

// WebhookDelivery returns one of a merchant's deliveries with its attempts.
func (s *Service) WebhookDelivery(ctx context.Context, merchantID, id int64) (*billkey.WebhookDelivery, error) {
	return s.Store.DeliveryByID(ctx, merchantID, id)
}

// ResendWebhook sends a delivery again now, whatever its state, retrying on
// the usual policy from now on.
func (s *Service) ResendWebhook(ctx context.Context, merchantID, id int64) (*billkey.WebhookDelivery, error) {
	d, err := s.Store.ResendDelivery(ctx, merchantID, id, s.Now().Add(s.Webhooks.retry().GiveUpAfter))
	if err != nil {
		return nil, err
	}
	s.wake(QueueWebhooks)
	return d, nil
}

// MaxSecretOverlap is the longest time a replaced secret (webhook signing
// secret or REST API secret) stays valid.
const MaxSecretOverlap = 30 * 24 * time.Hour

// RotatedSecret is a new webhook secret, shown this once.
type RotatedSecret struct {
	Secret string
	// PreviousValidUntil is when the secret it replaces stops signing
	// (zero when there was none).
	PreviousValidUntil time.Time
	CreatedAt          time.Time
}

// RotateWebhookSecret gives the merchant a new signing secret, returned this
// once and stored only sealed. The previous secret keeps signing (both
// signatures are sent) for overlap (WebhookConfig.SecretOverlap when
// negative; 0 drops it at once).
func (s *Service) RotateWebhookSecret(ctx context.Context, merchantID int64, overlap time.Duration) (*RotatedSecret, error) {
	if overlap < 0 {
		overlap = s.Webhooks.SecretOverlap
		if overlap <= 0 {
			overlap = 24 * time.Hour
		}
	}
	if overlap > MaxSecretOverlap {
		return nil, rejectf("이전 secret 유지 기간은 최대 30일입니다.")
	}
	now := s.Now()
	_, before, err := s.Store.WebhookSecrets(ctx, merchantID, now)
	if err != nil {
		return nil, err
	}
	secret, err := webhook.NewSecret()
	if err != nil {
		return nil, err
	}
	if err := s.Store.AddWebhookSecret(ctx, merchantID, secret, now.Add(overlap)); err != nil {
		return nil, err
	}
	out := &RotatedSecret{Secret: secret, CreatedAt: now}
	if len(before) > 0 {
		out.PreviousValidUntil = now.Add(overlap)
	}
	s.Logger.Info("webhook secret rotated", "merchant_id", merchantID, "previous_valid_for", overlap)
	return out, nil
}

// WebhookSettings is a merchant's webhook configuration, without secrets.
type WebhookSettings struct {
	URL         string
	NoticeHosts []string // besides URL's host, for window notice_urls
	Secrets     []billkey.WebhookSecretInfo
}

// WebhookSettings returns the merchant's URL and which secrets sign.
func (s *Service) WebhookSettings(ctx context.Context, merchantID int64) (*WebhookSettings, error) {
	m, err := s.Store.MerchantByID(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	_, infos, err := s.Store.WebhookSecrets(ctx, merchantID, s.Now())
	if err != nil {
		return nil, err
	}
	return &WebhookSettings{URL: m.WebhookURL, NoticeHosts: m.NoticeHosts, Secrets: infos}, nil
}

// SetWebhookURL sets the merchant's default notification URL ("" clears it).
func (s *Service) SetWebhookURL(ctx context.Context, merchantID int64, url string) error {
	url = strings.TrimSpace(url)
	if url != "" && webhook.CheckURL(url) != nil {
		return rejectf("웹훅 URL은 http:// 또는 https://로 시작하는 절대 URL이어야 합니다.")
	}
	return s.Store.SetWebhookURL(ctx, merchantID, url)
}

// RewrapWebhookSecrets re-wraps every sealed webhook secret under the
// keyring's primary master key (for billkey keys rotate).
func (s *Service) RewrapWebhookSecrets(ctx context.Context, rewrap func(blob []byte, purpose string, merchantID int64, subject string) ([]byte, error)) (n int, err error) {
	blobs, err := s.Store.WebhookSecretBlobs(ctx)
	if err != nil {
		return 0, err
	}
	for _, b := range blobs {
		nb, err := rewrap(b.Blob, billkey.PurposeWebhookSecret, b.MerchantID, strconv.FormatInt(b.ID, 10))
		if err != nil {
			return n, fmt.Errorf("gateway: rewrap webhook secret %d: %w", b.ID, err)
		}
		if string(nb) == string(b.Blob) {
			continue
		}
		if err := s.Store.ReplaceWebhookSecretBlob(ctx, b, nb); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
