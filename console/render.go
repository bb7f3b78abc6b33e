package console

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/billkey/billkey"
)

// page is what every template gets.
type page struct {
	Title  string
	Nav    string // the active menu entry
	Q      *request
	CSRF   string // the login form's token (other pages use Q.CSRF)
	Notice string
	Data   any
}

// Token is the CSRF token the page's forms carry.
func (p *page) Token() string {
	if p.Q != nil {
		return p.Q.CSRF
	}
	return p.CSRF
}

// Base is the URL prefix of the page's merchant.
func (p *page) Base() string {
	if p.Q == nil || p.Q.Merchant == nil {
		return Prefix
	}
	return Prefix + "/m/" + p.Q.Merchant.ImpCode
}

var pageNames = []string{"login", "error", "home", "dashboard", "payments", "payment", "confirm", "customers",
	"customer", "schedules", "calendar", "webhooks", "settings", "secret", "audit", "subscriptions", "subscription"}

func (c *Console) parseTemplates() error {
	c.pages = map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(c.funcs()).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("console: template %s: %w", name, err)
		}
		c.pages[name] = t
	}
	return nil
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	var buf bytes.Buffer
	if err := c.pages[name].Execute(&buf, p); err != nil {
		c.log.Error("console render", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (c *Console) funcs() template.FuncMap {
	return template.FuncMap{
		"won":      won,
		"num":      func(n int) string { return groupDigits(strconv.Itoa(n)) },
		"ts":       c.ts,
		"day":      func(t time.Time) string { return t.In(c.cfg.Location).Format("2006-01-02") },
		"status":   statusKo,
		"tone":     statusTone,
		"state":    stateKo,
		"schedule": scheduleKo,
		"usage":    usageKo,
		"channel":  channelKo,
		"pct": func(f float64) string {
			if f < 0 {
				return "—"
			}
			return strconv.FormatFloat(f, 'f', 1, 64) + "%"
		},
		"excerpt": func(s string, n int) string {
			if len(s) > n {
				return truncate(s, n) + "…"
			}
			return s
		},
		"weburl": func(s string) bool { return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") },
		"q":      url.QueryEscape,
		"path":   url.PathEscape,
		"deref": func(s *string) string {
			if s == nil {
				return ""
			}
			return *s
		},
		"derefInt": func(v *int64) string {
			if v == nil {
				return "—"
			}
			return won(*v)
		},
		"add":       func(a, b int) int { return a + b },
		"substatus": subStatusKo,
		"subtone":   subTone,
		"cycle": func(merchantUID string) int {
			_, k, _ := billkey.ParseSubscriptionOrder(merchantUID)
			return k + 1
		},
	}
}

func (c *Console) ts(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(c.cfg.Location).Format("2006-01-02 15:04:05")
}

// won formats KRW with thousands separators: 12,900원.
func won(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = groupDigits(strings.TrimPrefix(s, "-"))
	if neg {
		s = "-" + s
	}
	return s + "원"
}

func groupDigits(s string) string {
	var b strings.Builder
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	return b.String()
}

func statusKo(s billkey.PaymentStatus) string {
	switch s {
	case billkey.StatusReady:
		return "대기"
	case billkey.StatusPaid:
		return "결제완료"
	case billkey.StatusFailed:
		return "실패"
	case billkey.StatusCancelled:
		return "취소"
	}
	return string(s)
}

func statusTone(s string) string {
	switch s {
	case "paid", "delivered", "executed", "done":
		return "ok"
	case "failed", "uncertain":
		return "bad"
	case "cancelled", "revoked", "skipped":
		return "muted"
	}
	return "warn"
}

func stateKo(s string) string {
	return map[string]string{"pending": "재시도 대기", "delivered": "전달됨", "failed": "실패(중단)", "skipped": "건너뜀",
		"done": "완료", "uncertain": "결과 미확인"}[s] + " (" + s + ")"
}

func scheduleKo(s string) string {
	return map[string]string{"scheduled": "예약됨", "executed": "실행됨", "revoked": "해지됨"}[s]
}

func usageKo(s string) string {
	return map[string]string{billkey.UsageIssue: "빌링키 발급", billkey.UsagePayment: "빌링키 결제",
		billkey.UsageScheduled: "예약 결제", "": "일반"}[s]
}

func channelKo(s string) string {
	return map[string]string{billkey.ChannelAPI: "REST API", billkey.ChannelPC: "결제창 (PC)",
		billkey.ChannelMobile: "결제창 (모바일)"}[s]
}
