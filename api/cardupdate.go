package api

import (
	"net/http"
	"time"
)

// cardUpdateLinkView is a new card-update link. url holds the link's token:
// it is shown in this reply only (billkey stores its hash), so the reply is
// never kept for Idempotency-Key replays.
type cardUpdateLinkView struct {
	ID             int64  `json:"id"`
	SubscriptionID int64  `json:"subscription_id"`
	CustomerUID    string `json:"customer_uid"`
	URL            string `json:"url"`
	ExpiresAt      int64  `json:"expires_at"`
	CreatedAt      int64  `json:"created_at"`
}

// HandleCardUpdateLink serves POST /subscriptions/{id}/card_update_link
// {expires_in}: a single-use link where the subscription's customer
// replaces the card (expires_in seconds, default 24 hours).
func (s *Server) HandleCardUpdateLink(w http.ResponseWriter, r *http.Request) {
	p, err := readParams(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id, err := pathID(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	secs, _, err := p.Int64("expires_in")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var ttl time.Duration
	if secs != 0 {
		// Out of range values (negative, huge) are refused by the gateway.
		ttl = time.Duration(max(min(secs, 1<<32), -1)) * time.Second
	}
	l, err := s.Service.CreateCardUpdateLink(r.Context(), merchantID(r), id, ttl)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, cardUpdateLinkView{ID: l.Link.ID, SubscriptionID: l.Link.SubscriptionID, CustomerUID: l.Link.CustomerUID,
		URL: l.URL, ExpiresAt: ts(l.Link.ExpiresAt), CreatedAt: ts(l.Link.CreatedAt)})
}

// cardUpdateOps documents the card-update link route.
func cardUpdateOps() []docOp {
	return []docOp{{Method: "POST", Path: "/subscriptions/{id}/card_update_link", Tag: "subscriptions (billkey)",
		Summary: "Create a single-use, expiring card-update link for the subscription's customer", Response: cardUpdateLinkView{},
		Description: "expires_in: seconds the link stays valid (600 to 604800; default 86400). The url opens billkey's page " +
			"where the customer registers a new card for the same customer_uid through the payment window; the new billing key " +
			"replaces the old one and a past_due or unpaid subscription (or one waiting for a dunning retry) is charged again at " +
			"once (subscription.recovered when paid). The link works once, expires, and is refused for a cancelled or completed " +
			"subscription. Its token is shown only in this reply (stored hashed), so Idempotency-Key is not honoured here."}}
}
