package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/billkey/billkey"
)

// CreateTestClock creates a test clock at frozen (zero: now). Frozen may
// not be in the past: a clock only moves forward from the real now.
func (s *Service) CreateTestClock(ctx context.Context, merchantID int64, name string, frozen time.Time) (*billkey.TestClock, error) {
	if err := checkText("name", name, maxName); err != nil {
		return nil, err
	}
	now := s.Now().Truncate(time.Second)
	if frozen.IsZero() {
		frozen = now
	}
	if frozen.Before(now.Add(-schedulePastGrace)) || frozen.Unix() > maxScheduleAt {
		return nil, rejectf("frozen_time은 현재 시각 이후의 UNIX timestamp(초)여야 합니다.")
	}
	c := &billkey.TestClock{MerchantID: merchantID, Name: name, Now: frozen}
	if err := s.Store.CreateTestClock(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// TestClock returns one clock; ENOTFOUND if none.
func (s *Service) TestClock(ctx context.Context, merchantID, id int64) (*billkey.TestClock, error) {
	return s.Store.TestClockByID(ctx, merchantID, id)
}

// maxClockRuns bounds the charges one advance makes.
const maxClockRuns = 5000

// AdvanceTestClock moves the clock to to and runs, in time order and each
// once, every charge of its subscriptions that falls due on the way:
// renewals and dunning retries (whose own follow-ups, due before to, run
// too). It returns once the clock is ready at to.
func (s *Service) AdvanceTestClock(ctx context.Context, merchantID, id int64, to time.Time) (*billkey.TestClock, error) {
	c, err := s.Store.TestClockByID(ctx, merchantID, id)
	if err != nil {
		return nil, err
	}
	if to.Before(c.Now) || to.Unix() > maxScheduleAt {
		return nil, rejectf("테스트 시계는 앞으로만 이동할 수 있습니다. (now: %d)", c.Now.Unix())
	}
	if to.Sub(c.Now) > 10*366*24*time.Hour {
		return nil, rejectf("테스트 시계는 한 번에 최대 10년까지 이동할 수 있습니다.")
	}
	ok, err := s.Store.BeginAdvance(ctx, id, 2*s.Schedules.lease())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, rejectf("테스트 시계가 이미 이동 중입니다. 완료(ready)된 뒤 다시 시도해주세요.")
	}
	runErr := s.runClock(context.WithoutCancel(ctx), c, to)
	status := "ready"
	at := to
	if runErr != nil {
		s.Logger.Error("test clock advance stopped", "test_clock_id", id, "error", runErr)
		at = time.Time{} // stays where the last charge ran
	}
	if err := s.Store.SetClock(context.WithoutCancel(ctx), id, at, status); err != nil {
		return nil, errors.Join(runErr, err)
	}
	if runErr != nil {
		return nil, billkey.WrapError(billkey.EREJECTED, "테스트 시계 이동 중 결제를 완료하지 못했습니다. 다시 이동해주세요. ("+billkey.ErrorMessage(runErr)+")", runErr)
	}
	s.wake(QueueWebhooks)
	return s.Store.TestClockByID(ctx, merchantID, id)
}

func (s *Service) runClock(ctx context.Context, c *billkey.TestClock, to time.Time) error {
	owner := fmt.Sprintf("clock-%d-%s", c.ID, randomAlnum(8))
	for range maxClockRuns {
		now := s.Now()
		sc, err := s.Store.ClaimClockSchedule(ctx, c.ID, to, owner, now, now.Add(s.Schedules.lease()))
		if err != nil {
			return err
		}
		if sc == nil {
			return nil
		}
		// The clock's time is the charge's due time while it runs.
		if err := s.Store.SetClock(ctx, c.ID, sc.RunAfter.Truncate(time.Second), "advancing"); err != nil {
			return err
		}
		if _, err := s.executeSchedule(ctx, owner, sc); err != nil && billkey.ErrorCode(err) != billkey.EREJECTED &&
			billkey.ErrorCode(err) != billkey.EPG && billkey.ErrorCode(err) != billkey.EINVALID {
			return err // unknown outcome or internal error: the schedule stays pending for the next advance
		}
	}
	return fmt.Errorf("gateway: more than %d charges in one advance", maxClockRuns)
}
