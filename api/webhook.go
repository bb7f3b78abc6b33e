package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
)

type webhookSecretView struct {
	CreatedAt int64 `json:"created_at"`
	ExpiresAt int64 `json:"expires_at"` // 0: signs until rotated out
	ID        int64 `json:"id"`
}

type webhookSettingsView struct {
	// NoticeHosts are the hosts, besides URL's, a payment window's
	// notice_url may name.
	NoticeHosts []string            `json:"notice_hosts"`
	Secrets     []webhookSecretView `json:"secrets"`
	URL         *string             `json:"url"`
}

type attemptView struct {
	AttemptedAt int64   `json:"attempted_at"`
	Error       *string `json:"error"`
	LatencyMS   int64   `json:"latency_ms"`
	Node        string  `json:"node"`
	// ResponseExcerpt is the start of the receiver's answer body: at most
	// 512 bytes of UTF-8, control characters removed ("" when none).
	ResponseExcerpt string `json:"response_excerpt"`
	StatusCode      int    `json:"status_code"`
}

type deliveryView struct {
	Attempts       []attemptView `json:"attempts"`
	Body           string        `json:"body"`
	CreatedAt      int64         `json:"created_at"`
	DeliveredAt    int64         `json:"delivered_at"`
	ID             int64         `json:"id"`
	ImpUID         *string       `json:"imp_uid"`
	LastError      *string       `json:"last_error"`
	LastStatusCode int           `json:"last_status_code"`
	MerchantUID    string        `json:"merchant_uid"`
	NextAttemptAt  int64         `json:"next_attempt_at"` // 0 unless pending
	State          string        `json:"state"`
	Status         string        `json:"status"`
	URL            *string       `json:"url"`
	WebhookID      string        `json:"webhook_id"`
}

func newDeliveryView(d *billkey.WebhookDelivery) deliveryView {
	v := deliveryView{
		Attempts: []attemptView{}, Body: string(d.Body), CreatedAt: ts(d.CreatedAt), DeliveredAt: ts(d.DeliveredAt),
		ID: d.ID, ImpUID: ns(d.ImpUID), LastError: ns(d.LastError), LastStatusCode: d.LastStatusCode,
		MerchantUID: d.MerchantUID, State: string(d.State), Status: string(d.Status), URL: ns(d.URL),
		WebhookID: gateway.WebhookID(d.EventID),
	}
	if d.State == billkey.DeliveryPending {
		v.NextAttemptAt = ts(d.NextAttemptAt)
	}
	for _, a := range d.Log {
		v.Attempts = append(v.Attempts, attemptView{
			AttemptedAt: ts(a.At), Error: ns(a.Error), LatencyMS: a.Latency.Milliseconds(), Node: a.Node, StatusCode: a.StatusCode,
			ResponseExcerpt: a.Response,
		})
	}
	return v
}

// HandleWebhookSettings serves GET /webhooks: the URL and which secrets
// sign (never the secrets).
func (s *Server) HandleWebhookSettings(w http.ResponseWriter, r *http.Request) {
	st, err := s.Service.WebhookSettings(r.Context(), merchantID(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v := webhookSettingsView{URL: ns(st.URL), Secrets: []webhookSecretView{}, NoticeHosts: append([]string{}, st.NoticeHosts...)}
	for _, i := range st.Secrets {
		v.Secrets = append(v.Secrets, webhookSecretView{ID: i.ID, CreatedAt: ts(i.CreatedAt), ExpiresAt: ts(i.ExpiresAt)})
	}
	writeOK(w, v)
}

// HandleSetWebhookURL serves PUT /webhooks/url {"url": "..."} ("" clears).
func (s *Server) HandleSetWebhookURL(w http.ResponseWriter, r *http.Request, p Params) {
	u, err := p.String("url")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.Service.SetWebhookURL(r.Context(), merchantID(r), u); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.HandleWebhookSettings(w, r)
}

// HandleSetNoticeHosts serves PUT /webhooks/notice-hosts {"hosts": [...]}
// (a billkey extension): the hosts, besides the webhook URL's, that a
// payment window's notice_url may name. An empty list clears it.
func (s *Server) HandleSetNoticeHosts(w http.ResponseWriter, r *http.Request, p Params) {
	hosts, err := p.Strings("hosts")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := s.Service.SetNoticeHosts(r.Context(), merchantID(r), hosts); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.HandleWebhookSettings(w, r)
}

type rotatedSecretView struct {
	CreatedAt          int64  `json:"created_at"`
	PreviousValidUntil int64  `json:"previous_valid_until"`
	Secret             string `json:"secret"`
}

// HandleRotateWebhookSecret serves POST /webhooks/secret/rotate, with an
// optional previous_valid_for (seconds the old secret keeps signing; default
// 86400, 0 drops it at once). The new secret is in this reply only.
func (s *Server) HandleRotateWebhookSecret(w http.ResponseWriter, r *http.Request) {
	p, err := readParams(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	overlap := time.Duration(-1)
	secs, ok, err := p.Int64("previous_valid_for")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if ok {
		if secs < 0 {
			s.writeError(w, r, billkey.Errorf(billkey.EREJECTED, "previous_valid_for는 0 이상의 초 단위 값이어야 합니다."))
			return
		}
		// Checked before converting: seconds times 1e9 overflows int64
		// nanoseconds past ~292 years and could wrap to a short overlap.
		if secs > int64(gateway.MaxSecretOverlap/time.Second) {
			s.writeError(w, r, billkey.Errorf(billkey.EREJECTED, "previous_valid_for는 최대 %d초(30일)입니다.", int64(gateway.MaxSecretOverlap/time.Second)))
			return
		}
		overlap = time.Duration(secs) * time.Second
	}
	rs, err := s.Service.RotateWebhookSecret(r.Context(), merchantID(r), overlap)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeOK(w, rotatedSecretView{Secret: rs.Secret, CreatedAt: ts(rs.CreatedAt), PreviousValidUntil: ts(rs.PreviousValidUntil)})
}

// HandleWebhookDeliveries serves GET /webhooks/deliveries with optional
// imp_uid, merchant_uid, state (pending, delivered, failed, skipped), page
// and limit; newest first, each with every attempt.
func (s *Server) HandleWebhookDeliveries(w http.ResponseWriter, r *http.Request) {
	q, page, limit, err := listParams(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v, err := strs(q, "imp_uid", "merchant_uid", "state")
	if err != nil {
		s.writeError(w, r, invalid(err))
		return
	}
	f := billkey.DeliveryFilter{MerchantID: merchantID(r), ImpUID: v[0], MerchantUID: v[1], State: billkey.DeliveryState(v[2]),
		Offset: (page - 1) * limit, Limit: limit}
	if f.State != "" && !f.State.Valid() {
		s.writeError(w, r, billkey.Errorf(billkey.EINVALID, "지원되지 않는 상태값입니다. (state: pending, delivered, failed, skipped)"))
		return
	}
	ds, total, err := s.Service.WebhookDeliveries(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, newPage(viewsOf(ds, newDeliveryView), total, page, limit))
}

func deliveryID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, billkey.Errorf(billkey.ENOTFOUND, "웹훅 전송 기록이 존재하지 않습니다. (id: %s)", truncate(r.PathValue("id"), 20))
	}
	return id, nil
}

// HandleWebhookDelivery serves GET /webhooks/deliveries/{id}.
func (s *Server) HandleWebhookDelivery(w http.ResponseWriter, r *http.Request) {
	s.serveDelivery(w, r, s.Service.WebhookDelivery)
}

// HandleResendWebhook serves POST /webhooks/deliveries/{id}/resend: the
// delivery is sent again now (same webhook-id), whatever its state.
func (s *Server) HandleResendWebhook(w http.ResponseWriter, r *http.Request, _ Params) {
	s.serveDelivery(w, r, s.Service.ResendWebhook)
}

// serveDelivery runs use (a gateway use case) on the delivery named in the
// path and replies with the delivery it returns.
func (s *Server) serveDelivery(w http.ResponseWriter, r *http.Request,
	use func(ctx context.Context, merchantID, id int64) (*billkey.WebhookDelivery, error)) {
	id, err := deliveryID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := use(r.Context(), merchantID(r), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, newDeliveryView(d))
}
