package gateway

import "testing"

// TestWindowFailureResults: each way a window attempt fails is reported
// under its own result label, and the expiry message (formatted with the
// TTL) is recognised whatever the TTL.
func TestWindowFailureResults(t *testing.T) {
	s := &Service{WindowTTL: 7 * 60 * 1e9}
	var got []string
	s.OnWindowResult = func(r string) { got = append(got, r) }
	for _, c := range []struct{ code, msg, want string }{
		{"", msgUserCancel, "closed"},
		{"F400", msgUserCancel, "closed"},
		{"", msgWindowSuperseded, "superseded"},
		{"", msgWindowInterrupted, "interrupted"},
		{"", "결제창 유효시간(7분)이 지났습니다. 다시 시도해주세요. (window expired)", "expired"},
		{"V801", "[V801] 한도초과", "refused"},
		{"", "빌링키를 저장하지 못했습니다.", "failed"},
	} {
		if r := windowFailure(c.code, c.msg); r != c.want {
			t.Errorf("windowFailure(%q, %q) = %q, want %q", c.code, c.msg, r, c.want)
		}
		s.windowResult(windowFailure(c.code, c.msg))
	}
	if len(got) != 7 {
		t.Errorf("OnWindowResult called %d times, want 7", len(got))
	}
	(&Service{}).windowResult("issued") // no hook: no panic
}
