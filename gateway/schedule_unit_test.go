package gateway

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey"
)

const owner = "node-1"

func (u *unit) dueSchedule(muid string, amount int64) *billkey.Schedule {
	return u.st.addSchedule(&billkey.Schedule{MerchantID: u.merchant.ID, CustomerUID: "c1", MerchantUID: muid, Amount: amount,
		Currency: "KRW", Name: "월 구독", ScheduleAt: fakeNow.Add(-time.Minute)}, owner)
}

// TestScheduleRunsExactlyOnce: a schedule's run charges once; a second run
// of the same schedule (a retry after a crash, another node) adopts the
// payment the first made instead of charging again.
func TestScheduleRunsExactlyOnce(t *testing.T) {
	u := newUnit(t)
	u.addCustomer(t, "c1")
	ctx := context.Background()
	var woken []string
	u.svc.Wake = func(q string) { woken = append(woken, q) }
	sc := u.dueSchedule("sched-1", 9900)
	p, err := u.svc.executeSchedule(ctx, owner, sc)
	if err != nil || p.Status != billkey.StatusPaid || p.CustomerUIDUsage != billkey.UsageScheduled {
		t.Fatalf("run: %v %+v", err, p)
	}
	if sc.Status != billkey.ScheduleExecuted || sc.ImpUID != p.ImpUID || sc.PaymentStatus != billkey.StatusPaid {
		t.Fatalf("schedule %+v", sc)
	}
	// The same schedule handed out again (its finish was lost, say).
	sc2 := *sc
	sc2.Status, sc2.LeaseOwner = billkey.ScheduleScheduled, owner
	p2, err := u.svc.executeSchedule(ctx, owner, &sc2)
	if err != nil || p2.ImpUID != p.ImpUID || u.pg.chargeCount() != 1 {
		t.Fatalf("second run: %v, %+v, %d charges", err, p2, u.pg.chargeCount())
	}
	if len(woken) == 0 || woken[0] != QueueWebhooks {
		t.Fatalf("webhook queue not woken: %v", woken)
	}
}

// TestScheduleRunOutcomes: what one run does for each state it finds.
func TestScheduleRunOutcomes(t *testing.T) {
	for _, c := range []struct {
		name string
		// setup prepares the unit and returns the schedule to run.
		setup   func(t *testing.T, u *unit) *billkey.Schedule
		charges int
		status  billkey.ScheduleStatus
		payment billkey.PaymentStatus // the schedule's recorded result
		errCode string
	}{
		{name: "declined card", setup: func(t *testing.T, u *unit) *billkey.Schedule {
			u.addCustomer(t, "c1")
			u.pg.charge = func(billkey.ChargeRequest) (*billkey.Approval, error) {
				return nil, pgDecline("[1205] 유효기간 경과")
			}
			return u.dueSchedule("s", 1000)
		}, charges: 1, status: billkey.ScheduleExecuted, payment: billkey.StatusFailed},
		{name: "billing key deleted", setup: func(t *testing.T, u *unit) *billkey.Schedule {
			return u.dueSchedule("s", 1000)
		}, charges: 0, status: billkey.ScheduleExecuted, payment: billkey.StatusFailed, errCode: ""},
		{name: "unknown outcome waits for the reconciler", setup: func(t *testing.T, u *unit) *billkey.Schedule {
			u.addCustomer(t, "c1")
			u.pg.charge = func(billkey.ChargeRequest) (*billkey.Approval, error) { return nil, pgHang() }
			return u.dueSchedule("s", 1000)
		}, charges: 1, status: billkey.ScheduleScheduled, errCode: billkey.EUNCERTAIN},
		{name: "ready payment of this run is adopted, not charged", setup: func(t *testing.T, u *unit) *billkey.Schedule {
			u.addCustomer(t, "c1")
			_ = u.st.CreatePayment(context.Background(), &billkey.Payment{MerchantID: u.merchant.ID, ImpUID: "imps_r", MerchantUID: "s",
				Status: billkey.StatusReady, Amount: 1000, StartedAt: fakeNow})
			return u.dueSchedule("s", 1000)
		}, charges: 0, status: billkey.ScheduleScheduled, errCode: billkey.EUNCERTAIN},
		{name: "charge that never reached the PG runs again", setup: func(t *testing.T, u *unit) *billkey.Schedule {
			u.addCustomer(t, "c1")
			_ = u.st.CreatePayment(context.Background(), &billkey.Payment{MerchantID: u.merchant.ID, ImpUID: "imps_n", MerchantUID: "s",
				Status: billkey.StatusFailed, FailReason: reasonNoApproval, Amount: 1000})
			return u.dueSchedule("s", 1000)
		}, charges: 1, status: billkey.ScheduleExecuted, payment: billkey.StatusPaid},
		{name: "lease lost", setup: func(t *testing.T, u *unit) *billkey.Schedule {
			u.addCustomer(t, "c1")
			sc := u.dueSchedule("s", 1000)
			sc.LeaseOwner = "node-2"
			return sc
		}, charges: 0, status: billkey.ScheduleScheduled},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := newUnit(t)
			sc := c.setup(t, u)
			_, err := u.svc.executeSchedule(context.Background(), owner, sc)
			if c.errCode != "" && billkey.ErrorCode(err) != c.errCode {
				t.Fatalf("err %v, want %s", err, c.errCode)
			}
			if u.pg.chargeCount() != c.charges || sc.Status != c.status || sc.PaymentStatus != c.payment {
				t.Fatalf("%d charges, schedule %s/%s (err %v)", u.pg.chargeCount(), sc.Status, sc.PaymentStatus, err)
			}
			if c.status == billkey.ScheduleScheduled && sc.LeaseOwner == owner {
				t.Fatalf("schedule still leased after the run")
			}
		})
	}
}

// TestScheduleWithoutKeyQueuesFailedWebhook: a run that cannot reach the
// PG (the billing key was deleted) records the schedule failed with
// i'mport's message and queues a failed webhook for the order.
func TestScheduleWithoutKeyQueuesFailedWebhook(t *testing.T) {
	u := newUnit(t)
	sc := u.dueSchedule("gone", 1000)
	sc.NoticeURL = "https://shop.example/n"
	if _, err := u.svc.executeSchedule(context.Background(), owner, sc); err != nil {
		t.Fatal(err)
	}
	if sc.FailReason != unknownCustomer {
		t.Fatalf("fail reason %q", sc.FailReason)
	}
	var evs []billkey.Event
	for _, e := range u.st.events {
		if e.MerchantUID == "gone" {
			evs = append(evs, e)
		}
	}
	if len(evs) != 1 || evs[0].Status != billkey.StatusFailed || evs[0].NoticeURL != sc.NoticeURL || evs[0].ImpUID != "" {
		t.Fatalf("events %+v", evs)
	}
	if !strings.Contains(string(WebhookBody("", "gone", billkey.StatusFailed)), `"imp_uid":null`) {
		t.Fatal("a failed schedule's webhook body must carry imp_uid null")
	}
}
