package loadtest

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// CPU accounting: the user+system CPU time each process involved in a phase
// spent during it, read from /proc/<pid>/stat (utime, stime, and the
// cutime, cstime of children it waited for) before and after, divided by
// the successful requests of the phase. The processes:
//
//   - loadtest: this process (the load generator, the bare baselines, and
//     billkey itself when a test runs it in-process);
//   - billkey: the pids given with --billkey-pid (one per node);
//   - sim: the simulator's pid (--sim-pid), when it runs on its own;
//   - postgres: the pids given with --db-pid, plus, with --pg-stat-dsn, the
//     server's processes read from pg_stat_activity at each sample (the
//     client backends of the measured databases, the background workers and
//     the postmaster). SQLite runs inside billkey's (or the baseline's)
//     process and is counted there.
//
// /proc counts in clock ticks (USER_HZ, 100 per second on Linux), so a
// phase needs a few seconds for figures of a few µs per request to mean
// anything.

// clockTicks is Linux's USER_HZ: the unit of /proc/<pid>/stat's times.
const clockTicks = 100

// Process names in CPU reports.
const (
	ProcLoadtest = "loadtest"
	ProcBillkey  = "billkey"
	ProcSim      = "sim"
	ProcPostgres = "postgres"
)

// ProcCPU is one process group's CPU time over a phase.
type ProcCPU struct {
	Pids    []int   `json:"pids"`
	Seconds float64 `json:"cpu_seconds"`
	// PerOp is CPU µs per successful request (charge, window, schedule) of the phase.
	PerOp float64 `json:"us_per_op"`
	// Note says when a pid vanished during the phase (its time is lost) or
	// could not be read.
	Note string `json:"note,omitempty"`
}

// cpuAccount knows the processes to sample.
type cpuAccount struct {
	groups  map[string][]int // fixed pids per group
	pgDSN   string           // where to read PostgreSQL's pids
	pgNames []string         // databases whose client backends count
	pgConn  *pgx.Conn        // kept open: a new connection per sample would fork a backend each time
}

func newCPUAccount(cfg Config) *cpuAccount {
	a := &cpuAccount{groups: map[string][]int{ProcLoadtest: {os.Getpid()}}, pgDSN: cfg.PGStatDSN}
	if cfg.BillkeyInProcess {
		// One process runs billkey, the generator and the baselines: its
		// time is reported as billkey's.
		a.groups = map[string][]int{ProcBillkey: {os.Getpid()}}
	}
	if len(cfg.BillkeyPIDs) > 0 {
		a.groups[ProcBillkey] = cfg.BillkeyPIDs
	}
	if len(cfg.SimPIDs) > 0 {
		a.groups[ProcSim] = cfg.SimPIDs
	}
	if len(cfg.DBPIDs) > 0 {
		a.groups[ProcPostgres] = cfg.DBPIDs
	}
	for _, dsn := range []string{cfg.PGStatDSN, cfg.BaselineDB} {
		if name := pgDatabase(dsn); name != "" {
			a.pgNames = append(a.pgNames, name)
		}
	}
	return a
}

// pgDatabase returns the database name of a postgres:// DSN ("" otherwise).
func pgDatabase(dsn string) string {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return ""
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return ""
	}
	return cfg.Database
}

// cpuSample is the cumulative CPU ticks of each pid, by group.
type cpuSample map[string]map[int]int64

// sample reads every process's CPU time now (one goroutine at a time).
func (a *cpuAccount) sample(ctx context.Context) cpuSample {
	s := cpuSample{}
	for g, pids := range a.groups {
		s[g] = map[int]int64{}
		for _, pid := range pids {
			if t, err := procTicks(pid); err == nil {
				s[g][pid] = t
			} else {
				s[g][pid] = -1
			}
		}
	}
	if a.pgDSN != "" {
		pids, err := a.postgresPIDs(ctx)
		if err == nil {
			if s[ProcPostgres] == nil {
				s[ProcPostgres] = map[int]int64{}
			}
			for _, pid := range pids {
				if t, err := procTicks(pid); err == nil {
					s[ProcPostgres][pid] = t
				}
			}
		}
	}
	return s
}

// usage turns two samples into CPU seconds and µs per op, by group.
func usage(before, after cpuSample, ops uint64) map[string]ProcCPU {
	out := map[string]ProcCPU{}
	for g, end := range after {
		start := before[g]
		var u ProcCPU
		var ticks int64
		var notes []string
		for pid, t := range end {
			if t < 0 {
				notes = append(notes, fmt.Sprintf("pid %d unreadable", pid))
				continue
			}
			u.Pids = append(u.Pids, pid)
			if t0, ok := start[pid]; ok && t0 >= 0 {
				ticks += t - t0
			} else {
				ticks += t // started during the phase
			}
		}
		for pid, t0 := range start {
			if _, ok := end[pid]; !ok && t0 >= 0 {
				notes = append(notes, fmt.Sprintf("pid %d exited during the phase", pid))
			}
		}
		sort.Ints(u.Pids)
		u.Seconds = float64(ticks) / clockTicks
		if ops > 0 {
			u.PerOp = u.Seconds * 1e6 / float64(ops)
		}
		u.Note = strings.Join(notes, "; ")
		out[g] = u
	}
	return out
}

// procTicks reads utime+stime+cutime+cstime of a process, in clock ticks.
func procTicks(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatTicks(string(raw))
}

// parseStatTicks reads fields 14–17 of /proc/<pid>/stat. The second field
// (comm) is in parentheses and may hold spaces, so fields are counted from
// the last ')'.
func parseStatTicks(stat string) (int64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("loadtest: malformed /proc stat")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state): utime is field 14, i.e. f[11].
	if len(f) < 15 {
		return 0, fmt.Errorf("loadtest: short /proc stat")
	}
	var sum int64
	for _, s := range f[11:15] {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("loadtest: /proc stat: %w", err)
		}
		sum += v
	}
	return sum, nil
}

// parentPID reads a process's parent pid from /proc (field 4).
func parentPID(pid int) int {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0
	}
	p, _ := strconv.Atoi(f[1])
	return p
}

// postgresPIDs lists the PostgreSQL server processes that work for the
// measured databases: their client backends, every background process
// (WAL writer, checkpointer, background writer, autovacuum, walsenders),
// and the postmaster (the backends' parent). This query's own backend is
// left out.
func (a *cpuAccount) postgresPIDs(ctx context.Context) ([]int, error) {
	if a.pgConn == nil || a.pgConn.IsClosed() {
		conn, err := pgx.Connect(ctx, a.pgDSN)
		if err != nil {
			return nil, err
		}
		a.pgConn = conn
	}
	rows, err := a.pgConn.Query(ctx, `SELECT pid FROM pg_stat_activity
		WHERE pid <> pg_backend_pid() AND (backend_type <> 'client backend' OR datname = ANY($1))`, a.pgNames)
	if err != nil {
		return nil, err
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, err
	}
	out := make([]int, 0, len(pids)+1)
	for _, p := range pids {
		out = append(out, int(p))
	}
	if len(out) > 0 {
		if pp := parentPID(out[0]); pp > 1 {
			out = append(out, pp)
		}
	}
	return out, nil
}

// close releases the PostgreSQL connection.
func (a *cpuAccount) close() {
	if a.pgConn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.pgConn.Close(ctx)
	}
}

// cpuLine renders a CPU map as "billkey 812 µs, postgres 301 µs, ...".
func cpuLine(m map[string]ProcCPU) string {
	if len(m) == 0 {
		return ""
	}
	order := []string{ProcBillkey, ProcSim, ProcPostgres, ProcLoadtest}
	var parts []string
	for _, g := range order {
		if u, ok := m[g]; ok {
			parts = append(parts, fmt.Sprintf("%s %.0f", g, u.PerOp))
		}
	}
	return "cpu µs/op: " + strings.Join(parts, ", ")
}
