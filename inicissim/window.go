package inicissim

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Window input names, stable for browsers, tests and people. The card
// form also accepts expiryMonth + expiryYear instead of expiry.
const (
	InputSessionID   = "sid"
	InputCardNumber  = "cardNumber"  // 13–19 digits; spaces and '-' ignored
	InputExpiry      = "expiry"      // MM/YY, MMYY or MM/YYYY
	InputExpiryMonth = "expiryMonth" // MM (with InputExpiryYear)
	InputExpiryYear  = "expiryYear"  // YY or YYYY
	InputBirth       = "birth"       // YYMMDD or a 10-digit business number
	InputPwd2Digit   = "pwd2digit"   // first two PIN digits
)

// window is an open billing window (PC StdPay or mobile INILite).
type window struct {
	id        string
	kind      string // "stdpay" or "inilite"
	acct      Account
	orderID   string
	price     int64
	goodName  string
	buyerName string
	buyerTel  string
	buyerMail string
	returnURL string
	closeURL  string
	charset   string
	// StdPay merchantData; INILite p_noti and merchantreserved.
	merchantData     string
	notice           string
	merchantReserved string
	expires          time.Time
}

// authGrant is a StdPay authToken waiting for (or past) its payAuth.
type authGrant struct {
	token        string
	idc          string // idc_name the grant was issued by: fc, ks or stg
	win          window
	profile      cardProfile
	expires      time.Time
	approved     bool
	netCancelled bool
	key          Key
}

type field struct{ Name, Value string }

type windowPage struct {
	Title        string
	MerchantName string
	MID          string
	GoodName     string
	Price        int64
	BillAuth     bool
	Action       string
	CancelAction string
	SID          string
	Error        string
	SubmitLabel  string
	// Layer draws the window as INIStdPay does on PC: a centered card over
	// a dimmed, otherwise transparent full-viewport layer (the payment
	// iframe it lives in covers the merchant page).
	Layer bool
	// After a validation error: what the buyer typed that is not secret (the
	// expiry as typed, the card number masked); the number, PIN digits and
	// birth date are never written back into the page.
	KeptExpiry string
	KeptCard   string
}

type postPage struct {
	Title   string
	Code    string
	Message string
	Action  string
	Fields  []field
	Manual  bool // wait for a click instead of auto-submitting
}

type messagePage struct {
	Title   string
	Code    string
	Message string
	Link    string
}

// render writes an HTML page. Windows must be frameable (the PC window
// usually lives in an iframe), so no X-Frame-Options is set.
func (s *Simulator) render(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := s.tpl.ExecuteTemplate(w, name, data); err != nil {
		s.log.Error("inicissim: template", "name", name, "error", err)
	}
}

func (s *Simulator) message(w http.ResponseWriter, status int, ref *refusal) {
	s.render(w, status, "message.html", messagePage{Title: "결제 오류", Code: ref.Code, Message: ref.Text})
}

// readPageForm parses a browser form post; on failure it answers with an
// error page.
func (s *Simulator) readPageForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		s.message(w, http.StatusBadRequest, &refusal{refStdParam.Code, refStdParam.Text + "[요청 본문을 읽을 수 없습니다]"})
		return nil, false
	}
	return r.PostForm, true
}

// validReturnURL reports whether u is an absolute http(s) URL.
func validReturnURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != "" && p.User == nil
}

// openWindow stores a window session.
func (s *Simulator) openWindow(win *window) {
	now := s.cfg.Now()
	win.id = newSessionID()
	win.expires = now.Add(s.cfg.WindowTTL)
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	for id, old := range s.st.windows { // prune
		if now.After(old.expires) {
			delete(s.st.windows, id)
			s.st.forgetWindow(id)
		}
	}
	s.st.windows[win.id] = win
	s.st.persistWindow(win)
}

// findWindow returns the live window of a session and kind.
func (s *Simulator) findWindow(id, kind string) *window {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	win := s.st.windows[id]
	if win == nil || win.kind != kind || s.cfg.Now().After(win.expires) {
		return nil
	}
	return win
}

// closeWindow consumes a window session; false if it was already gone (a
// double submit).
func (s *Simulator) closeWindow(id string) bool {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if s.st.windows[id] == nil {
		return false
	}
	delete(s.st.windows, id)
	s.st.forgetWindow(id)
	return true
}

// keptPage is windowPage after a validation error, keeping what the buyer
// typed that is not secret.
func (s *Simulator) keptPage(r *http.Request, win *window, errMsg string, f url.Values) windowPage {
	p := s.windowPage(r, win, errMsg)
	if e := f.Get(InputExpiry); len(e) <= 7 && strings.Trim(e, "0123456789/ -") == "" {
		p.KeptExpiry = e
	}
	if n := strings.NewReplacer(" ", "", "-", "").Replace(f.Get(InputCardNumber)); len(n) >= 13 && len(n) <= 19 && isDigits(n, 19) {
		p.KeptCard = maskCard(n)
	}
	return p
}

// cardInput is what the buyer typed.
type cardInput struct {
	number, expiry, birth, pwd string
}

// parseCardForm reads the card inputs; the string is a Korean message for
// the buyer when they are malformed.
func parseCardForm(f url.Values) (cardInput, string) {
	var c cardInput
	c.number = strings.NewReplacer(" ", "", "-", "").Replace(f.Get(InputCardNumber))
	if !isDigits(c.number, 19) || len(c.number) < 13 {
		return c, "카드번호를 정확히 입력해 주세요."
	}
	mm, yy := "", ""
	if e := strings.NewReplacer(" ", "", "/", "", "-", "").Replace(f.Get(InputExpiry)); e != "" {
		if len(e) == 4 || len(e) == 6 {
			mm, yy = e[:2], e[2:]
		}
	} else {
		mm, yy = f.Get(InputExpiryMonth), f.Get(InputExpiryYear)
		if len(mm) == 1 {
			mm = "0" + mm
		}
	}
	if len(yy) == 4 {
		yy = yy[2:]
	}
	if !isDigits(mm, 2) || len(mm) != 2 || !isDigits(yy, 2) || len(yy) != 2 || mm < "01" || mm > "12" {
		return c, "유효기간을 MM/YY 형식으로 입력해 주세요."
	}
	c.expiry = yy + mm
	c.birth = strings.ReplaceAll(f.Get(InputBirth), "-", "")
	if !isDigits(c.birth, 10) || (len(c.birth) != 6 && len(c.birth) != 10) {
		return c, "생년월일 6자리 또는 사업자번호 10자리를 입력해 주세요."
	}
	c.pwd = f.Get(InputPwd2Digit)
	if !isDigits(c.pwd, 2) || len(c.pwd) != 2 {
		return c, "카드 비밀번호 앞 2자리를 입력해 주세요."
	}
	return c, ""
}

func (s *Simulator) windowPage(r *http.Request, win *window, errMsg string) windowPage {
	p := windowPage{
		MerchantName: win.acct.Name, MID: win.acct.MID, GoodName: win.goodName, Price: win.price,
		BillAuth: true, SID: win.id, Error: errMsg, SubmitLabel: "카드 등록",
	}
	if p.MerchantName == "" {
		p.MerchantName = win.acct.MID
	}
	base := s.base(r)
	if win.kind == "stdpay" {
		p.Title = "카드 등록 (정기결제)"
		p.Layer = true
		p.Action, p.CancelAction = base+"/stdpay/window/auth", base+"/stdpay/window/cancel"
	} else {
		p.Title = "카드 등록 (모바일 정기결제)"
		p.Action, p.CancelAction = base+"/inibill/auth", base+"/inibill/cancel"
	}
	return p
}
