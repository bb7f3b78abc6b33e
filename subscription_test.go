package billkey

import "testing"

func TestSubscriptionOrderRoundTrip(t *testing.T) {
	for _, c := range []struct {
		id     int64
		period int
	}{{1, 0}, {42, 11}, {9007199254740993, 9999}} {
		id, k, ok := ParseSubscriptionOrder(SubscriptionOrder(c.id, c.period))
		if !ok || id != c.id || k != c.period {
			t.Fatalf("%v: %d %d %v", c, id, k, ok)
		}
	}
	for _, bad := range []string{"sub_", "sub_1", "sub_1_0", "sub_01_1", "sub_1_01", "sub_-1_1", "sub_1_1_1", "order_1_1", "sub_a_1"} {
		if _, _, ok := ParseSubscriptionOrder(bad); ok {
			t.Fatalf("%q parsed", bad)
		}
	}
}
