package api

import (
	"net/http"
	"time"

	"github.com/billkey/billkey"
)

// Paging limits of i'mport's list endpoints.
const (
	defaultLimit = 20
	maxLimit     = 1000
	maxWindow    = 90 * 24 * time.Hour
)

// HandlePayment serves GET /payments/{imp_uid}.
func (s *Server) HandlePayment(w http.ResponseWriter, r *http.Request) {
	p, err := s.Service.Payment(r.Context(), merchantID(r), r.PathValue("imp_uid"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, newPaymentView(p))
}

// HandlePayments serves GET /payments?imp_uid[]=&merchant_uid[]=: 200 when
// every id was found, 207 with the found ones when some were, 404 when none.
func (s *Server) HandlePayments(w http.ResponseWriter, r *http.Request) {
	q, err := parseForm(r.URL.RawQuery)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	impUIDs, err := q.Strings("imp_uid")
	if err != nil {
		s.writeError(w, r, invalid(err))
		return
	}
	merchantUIDs, err := q.Strings("merchant_uid")
	if err != nil {
		s.writeError(w, r, invalid(err))
		return
	}
	// An id asked twice (or a payment asked by both its ids) is answered
	// once.
	impUIDs, merchantUIDs = unique(impUIDs), unique(merchantUIDs)
	asked := len(impUIDs) + len(merchantUIDs)
	switch {
	case asked == 0:
		s.writeError(w, r, billkey.Errorf(billkey.EINVALID, "imp_uid 또는 merchant_uid를 지정해주셔야합니다."))
		return
	case asked > 100:
		s.writeError(w, r, billkey.Errorf(billkey.EINVALID, "한 번에 최대 100건까지 조회할 수 있습니다."))
		return
	}
	ps, err := s.Service.PaymentsByUIDs(r.Context(), merchantID(r), impUIDs, merchantUIDs)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(ps) == 0 {
		s.writeError(w, r, billkey.Errorf(billkey.ENOTFOUND, "존재하지 않는 결제정보입니다."))
		return
	}
	views := make([]paymentView, 0, len(ps))
	seen := map[string]bool{}
	foundImp, foundMerchant := map[string]bool{}, map[string]bool{}
	for _, p := range ps {
		foundImp[p.ImpUID], foundMerchant[p.MerchantUID] = true, true
		if !seen[p.ImpUID] {
			seen[p.ImpUID] = true
			views = append(views, newPaymentView(p))
		}
	}
	status := http.StatusOK
	for _, id := range impUIDs {
		if !foundImp[id] {
			status = http.StatusMultiStatus
		}
	}
	for _, id := range merchantUIDs {
		if !foundMerchant[id] {
			status = http.StatusMultiStatus
		}
	}
	writeJSON(w, status, envelope{Response: views})
}

// HandleFindPayment serves GET /payments/find/{merchant_uid}[/{payment_status}].
func (s *Server) HandleFindPayment(w http.ResponseWriter, r *http.Request) {
	status, err := statusFilter(r.PathValue("payment_status"), false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q, err := parseForm(r.URL.RawQuery)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sorting, err := q.String("sorting")
	if err != nil {
		s.writeError(w, r, invalid(err))
		return
	}
	if sorting != "" && sorting != "-started" {
		// i'mport's sorting picks which of several payments is "the" one.
		f := billkey.PaymentFilter{MerchantID: merchantID(r), MerchantUID: r.PathValue("merchant_uid"), Status: status, Sorting: sorting, Limit: 1}
		if !validSorting(sorting) {
			s.writeError(w, r, billkey.Errorf(billkey.EINVALID, "지원되지 않는 정렬 방식입니다. (sorting: %s)", truncate(sorting, 20)))
			return
		}
		ps, _, err := s.Service.Payments(r.Context(), f)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if len(ps) == 0 {
			s.writeError(w, r, billkey.Errorf(billkey.ENOTFOUND, "존재하지 않는 결제정보입니다."))
			return
		}
		writeOK(w, newPaymentView(ps[0]))
		return
	}
	p, err := s.Service.FindPayment(r.Context(), merchantID(r), r.PathValue("merchant_uid"), status)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeOK(w, newPaymentView(p))
}

// HandleFindAllPayments serves GET /payments/findAll/{merchant_uid}[/{payment_status}].
func (s *Server) HandleFindAllPayments(w http.ResponseWriter, r *http.Request) {
	status, err := statusFilter(r.PathValue("payment_status"), false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f := billkey.PaymentFilter{MerchantID: merchantID(r), MerchantUID: r.PathValue("merchant_uid"), Status: status}
	s.listPayments(w, r, f, false, true)
}

// HandlePaymentsByStatus serves GET /payments/status/{payment_status}.
func (s *Server) HandlePaymentsByStatus(w http.ResponseWriter, r *http.Request) {
	status, err := statusFilter(r.PathValue("payment_status"), true)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.listPayments(w, r, billkey.PaymentFilter{MerchantID: merchantID(r), Status: status}, true, false)
}

// listPayments renders a paged list with page, limit, sorting and (when
// window is set) from/to, as i'mport's list endpoints take them. With
// notFound, an empty result (no payment matches at all) is HTTP 404
// `존재하지 않는 결제정보입니다.`, as i'mport answers findAll.
func (s *Server) listPayments(w http.ResponseWriter, r *http.Request, f billkey.PaymentFilter, window, notFound bool) {
	q, page, limit, err := listParams(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	f.Offset, f.Limit = (page-1)*limit, limit
	if f.Sorting, err = q.String("sorting"); err != nil {
		s.writeError(w, r, invalid(err))
		return
	}
	if !validSorting(f.Sorting) {
		s.writeError(w, r, billkey.Errorf(billkey.EINVALID, "지원되지 않는 정렬 방식입니다. (sorting: %s)", truncate(f.Sorting, 20)))
		return
	}
	if window {
		if f.From, f.To, err = timeWindow(q, "from", "to", s.Service.Now(), maxWindow); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	ps, total, err := s.Service.Payments(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if notFound && total == 0 {
		s.writeError(w, r, billkey.Errorf(billkey.ENOTFOUND, "존재하지 않는 결제정보입니다."))
		return
	}
	writeOK(w, newPage(viewsOf(ps, newPaymentView), total, page, limit))
}

// statusFilter parses a payment_status path segment; "all" (when allowed)
// and "" mean no filter.
func statusFilter(v string, allowAll bool) (billkey.PaymentStatus, error) {
	if v == "" || (allowAll && v == "all") {
		return "", nil
	}
	st := billkey.PaymentStatus(v)
	if !st.Valid() {
		return "", billkey.Errorf(billkey.EINVALID, "지원되지 않는 상태값입니다.")
	}
	return st, nil
}

// listParams reads a list endpoint's query string with its page and limit
// (see paging).
func listParams(r *http.Request) (q Params, page, limit int, err error) {
	if q, err = parseForm(r.URL.RawQuery); err != nil {
		return nil, 0, 0, err
	}
	page, limit, err = paging(q)
	return q, page, limit, err
}

// paging reads page (from 1; 0, what clients send by default, is the
// first page too) and limit (1 to 1000, default 20).
func paging(q Params) (page, limit int, err error) {
	p, ok, err := q.Int64("page")
	if err != nil || (ok && (p < 0 || p > 1_000_000)) {
		return 0, 0, billkey.Errorf(billkey.EINVALID, "page는 1 이상의 정수여야 합니다.")
	}
	if !ok || p == 0 {
		p = 1
	}
	l, ok, err := q.Int64("limit")
	if err != nil || (ok && (l < 1 || l > maxLimit)) {
		return 0, 0, billkey.Errorf(billkey.EINVALID, "limit은 1부터 %d 사이의 정수여야 합니다.", maxLimit)
	}
	if !ok {
		l = defaultLimit
	}
	return int(p), int(l), nil
}

// timeWindow reads a [from, to] UNIX-seconds window: to defaults to now, from
// to `span` before to, and a wider window is refused.
func timeWindow(q Params, fromName, toName string, now time.Time, span time.Duration) (from, to time.Time, err error) {
	f, hasFrom, err := q.Int64(fromName)
	if err != nil || f < 0 {
		return from, to, billkey.Errorf(billkey.EINVALID, "%s는 UNIX timestamp(초)여야 합니다.", fromName)
	}
	t, hasTo, err := q.Int64(toName)
	if err != nil || t < 0 {
		return from, to, billkey.Errorf(billkey.EINVALID, "%s는 UNIX timestamp(초)여야 합니다.", toName)
	}
	to = now
	if hasTo {
		to = time.Unix(t, 0)
	}
	from = to.Add(-span)
	if hasFrom {
		from = time.Unix(f, 0)
	}
	if from.After(to) {
		return from, to, billkey.Errorf(billkey.EINVALID, "%s가 %s보다 늦을 수 없습니다.", fromName, toName)
	}
	if to.Sub(from) > span {
		return from, to, billkey.Errorf(billkey.EINVALID, "조회 기간은 최대 %d일입니다.", int(span.Hours()/24))
	}
	return from, to, nil
}

// invalid turns a parameter error into a lookup's 400.
func invalid(err error) error {
	return billkey.WrapError(billkey.EINVALID, billkey.ErrorMessage(err), err)
}

// unique returns ids without repeats, in their first order.
func unique(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// validSorting reports whether v is one of i'mport's payment sortings.
func validSorting(v string) bool {
	switch v {
	case "", "-started", "started", "-paid", "paid", "-updated", "updated":
		return true
	}
	return false
}
