package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/billkey/billkey"
)

// ParamsHandler is a POST handler that receives its bound parameters.
type ParamsHandler func(w http.ResponseWriter, r *http.Request, p Params)

// macIdempotency is the MAC purpose of Idempotency-Key request digests.
const macIdempotency = "idempotency-request"

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 255

// Idempotent binds a POST's parameters and, when the request carries an
// Idempotency-Key header, gives it Stripe's semantics: the first reply is
// stored and replayed for the same key and parameters; a request with the key
// still in flight gets 409; the key with other parameters gets 422. Replies
// that are internal errors (5xx) are not stored, so they may be retried.
func (s *Server) Idempotent(h ParamsHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := readParams(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
		if key == "" {
			h(w, r, p)
			return
		}
		if len(key) > maxIdempotencyKey {
			s.writeError(w, r, billkey.Errorf(billkey.EINVALID, "Idempotency-Key는 최대 %d자입니다.", maxIdempotencyKey))
			return
		}
		canon, _ := json.Marshal(p) // map keys are sorted: a canonical form
		// Keyed: the parameters may hold card data (onetime, key issuance),
		// and a plain hash of them could be brute-forced from a dump.
		sum := s.Service.Keys.MAC(macIdempotency, append([]byte(r.Method+" "+r.URL.Path+"\n"), canon...))
		mid := merchantID(r)
		stored, err := s.Service.BeginIdempotent(r.Context(), mid, key, sum)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if stored != nil {
			w.Header().Set("Idempotent-Replayed", "true")
			w.Header().Set("Content-Type", "application/json; charset=UTF-8")
			w.WriteHeader(stored.Status)
			_, _ = w.Write(stored.Body)
			return
		}
		rec := &captureWriter{header: http.Header{}, status: http.StatusOK}
		h(rec, r, p)
		ctx := context.WithoutCancel(r.Context())
		if rec.status >= 500 {
			_ = s.Service.AbandonIdempotent(ctx, mid, key)
		} else if err := s.Service.FinishIdempotent(ctx, mid, key, billkey.StoredResponse{Status: rec.status, Body: rec.body.Bytes()}); err != nil {
			s.Logger.Error("store idempotent reply", "error", err)
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body.Bytes())
	}
}

// captureWriter buffers a reply so it can be stored before it is sent.
type captureWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *captureWriter) Header() http.Header         { return c.header }
func (c *captureWriter) WriteHeader(code int)        { c.status = code }
func (c *captureWriter) Write(b []byte) (int, error) { return c.body.Write(b) }
