package gateway

import (
	"context"
	"net"
	"net/url"
	"strings"

	"github.com/billkey/billkey"
)

// Notice hosts. A payment window is opened by whoever holds the merchant's
// public imp code, so its notice_url is chosen by a stranger; billkey would
// then send that stranger a validly signed "paid" event, which could be
// replayed to the merchant's real endpoint. A window notice_url must
// therefore name a host the merchant controls: its webhook URL's host, or
// one it listed (PUT /webhooks/notice-hosts, billkey webhooks notice-hosts).
// REST calls are authenticated with the merchant's secret, so their
// notice_url is the merchant's own choice and is not checked against the
// list.

// maxNoticeHosts bounds a merchant's notice-host list.
const maxNoticeHosts = 50

// NormalizeNoticeHost checks one allow-list entry and returns it lowercase:
// a host name or IP literal, optionally with :port, or "*.domain" for every
// subdomain of domain (not domain itself).
func NormalizeNoticeHost(h string) (string, error) {
	h = strings.ToLower(strings.TrimSpace(h))
	bad := func() (string, error) {
		return "", rejectf("notice_url 허용 호스트 %q가 올바르지 않습니다. 호스트 이름(예: shop.example.com, shop.example.com:8443, *.example.com)만 쓸 수 있습니다.", truncate(h, 80))
	}
	if h == "" || len(h) > 253 || strings.ContainsAny(h, "/?#@ \\") {
		return bad()
	}
	name := h
	if host, port, err := net.SplitHostPort(h); err == nil {
		if port == "" || strings.Trim(port, "0123456789") != "" || len(port) > 5 {
			return bad()
		}
		name = host
	} else if strings.HasPrefix(h, "[") {
		return bad()
	}
	if ip := net.ParseIP(name); ip != nil {
		return h, nil
	}
	name = strings.TrimPrefix(name, "*.")
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return bad()
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return bad()
			}
		}
	}
	return h, nil
}

// SetNoticeHosts replaces the merchant's notice-host allow-list (empty
// clears it: only the webhook URL's host remains allowed). It returns the
// normalized list.
func (s *Service) SetNoticeHosts(ctx context.Context, merchantID int64, hosts []string) ([]string, error) {
	if len(hosts) > maxNoticeHosts {
		return nil, rejectf("notice_url 허용 호스트는 %d개까지 등록할 수 있습니다.", maxNoticeHosts)
	}
	out := make([]string, 0, len(hosts))
	seen := map[string]bool{}
	for _, h := range hosts {
		n, err := NormalizeNoticeHost(h)
		if err != nil {
			return nil, err
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	if err := s.Store.SetNoticeHosts(ctx, merchantID, out); err != nil {
		return nil, err
	}
	return out, nil
}

// NoticeHosts returns what a window notice_url may name for the merchant:
// its webhook URL's host (when set) and its allow-list.
func NoticeHosts(m *billkey.Merchant) []string {
	var out []string
	if u, err := url.Parse(m.WebhookURL); err == nil && u.Host != "" {
		out = append(out, strings.ToLower(u.Host))
	}
	return append(out, m.NoticeHosts...)
}

// noticeHostAllowed reports whether the URL's host matches an entry: an
// entry with a port matches host:port exactly, one without matches the host
// on any port, "*.domain" matches any subdomain of domain.
func noticeHostAllowed(u *url.URL, allowed []string) bool {
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	for _, a := range allowed {
		name, p := a, ""
		if h, ap, err := net.SplitHostPort(a); err == nil {
			name, p = strings.Trim(h, "[]"), ap
		}
		if p != "" && p != port {
			continue
		}
		if sub, ok := strings.CutPrefix(name, "*."); ok {
			if strings.HasSuffix(host, "."+sub) {
				return true
			}
			continue
		}
		if host == strings.Trim(name, "[]") {
			return true
		}
	}
	return false
}

// checkWindowNoticeURLs refuses window notice_urls whose host the merchant
// has not allowed.
func checkWindowNoticeURLs(m *billkey.Merchant, urls []string) error {
	if len(urls) == 0 {
		return nil
	}
	allowed := NoticeHosts(m)
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || !noticeHostAllowed(u, allowed) {
			return rejectf("notice_url(%s)의 호스트는 이 가맹점의 웹훅 URL 호스트나 등록된 허용 호스트가 아니어서 사용할 수 없습니다. "+
				"PUT /webhooks/notice-hosts 또는 billkey webhooks notice-hosts로 허용 호스트를 등록하세요.", truncate(raw, 100))
		}
	}
	return nil
}
