package cli_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// deployDir is the repository's deploy folder.
var deployDir = filepath.Join("..", "..", "deploy")

// metricNames scrapes /metrics and returns every series name in it.
func metricNames(t *testing.T, base string) (map[string]bool, string) {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	names := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	return names, string(body)
}

// ruleFile is the Prometheus rule file format (rulefmt), strictly: an
// unknown field is an error, as it is for Prometheus.
type ruleFile struct {
	Groups []struct {
		Name     string `yaml:"name"`
		Interval string `yaml:"interval"`
		Rules    []struct {
			Alert         string            `yaml:"alert"`
			Record        string            `yaml:"record"`
			Expr          string            `yaml:"expr"`
			For           string            `yaml:"for"`
			KeepFiringFor string            `yaml:"keep_firing_for"`
			Labels        map[string]string `yaml:"labels"`
			Annotations   map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

var (
	billkeyMetricRE = regexp.MustCompile(`\b(?:billkey|go|process)_[a-z0-9_]+\b`)
	labelMatcherRE  = regexp.MustCompile(`\{[^{}]*\}`)
)

// metricsIn returns the metric names an expression uses (label values and
// matchers removed first, so a quoted value is not taken for a metric).
func metricsIn(expr string) []string {
	return billkeyMetricRE.FindAllString(labelMatcherRE.ReplaceAllString(expr, "{}"), -1)
}

// TestAlertRulesAndDashboard: deploy/prometheus/alerts.yml is a valid
// Prometheus rule file (promtool check rules when Debian's prometheus
// package is installed, and a strict parse of the rule format always), the
// Grafana dashboard is valid JSON, and every metric either names exists in
// a running billkey's /metrics; charges move billkey_charges_total and the
// PG metrics by outcome.
func TestAlertRulesAndDashboard(t *testing.T) {
	s := serve(t, "--data-dir", t.TempDir(), "--public-metrics")
	m := credRE.FindStringSubmatch(s.out.String())
	if m == nil {
		t.Fatalf("no demo merchant:\n%s", s.out)
	}
	api := newAPIClient(t, s.url, m[2], m[3])
	if !api.register("ok_card") || !api.charge("ok_card", "order_ok") {
		t.Fatal("charge with 4242 failed")
	}
	declined := api.call("POST", "/subscribe/customers/low_limit", map[string][]string{
		"card_number": {"4000-0000-0000-0341"}, "expiry": {"2030-12"}, "birth": {"880101"}, "pwd_2digit": {"12"}})
	if declined.Code != 0 || api.charge("low_limit", "order_declined") {
		t.Fatalf("the low-limit card: register %+v, or its charge was approved", declined)
	}
	names, text := metricNames(t, s.url)
	for _, want := range []string{
		`billkey_charges_total{outcome="approved"} 1`,
		`billkey_charges_total{outcome="declined"} 1`,
		`billkey_charges_total{outcome="unknown"} 0`,
		`billkey_pg_requests_total{operation="issue",outcome="ok"} 2`,
		`billkey_pg_requests_total{operation="charge",outcome="refused"} 1`,
		`billkey_pg_request_duration_seconds_count{operation="charge"} 2`,
		`billkey_store_snapshot_up 1`,
		`billkey_unknown_outcomes{kind="charge"} 0`,
		`billkey_schedules_due 0`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// The alert rules.
	path := filepath.Join(deployDir, "prometheus", "alerts.yml")
	if promtool, err := exec.LookPath("promtool"); err == nil {
		out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
		if err != nil {
			t.Errorf("promtool check rules: %v\n%s", err, out)
		}
		t.Logf("promtool check rules: %s", bytes.TrimSpace(out))
	} else {
		t.Log("promtool is not on PATH (Debian package prometheus): the rules are checked with the strict Go parse below only")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&rf); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	used := map[string]bool{}
	alerts := 0
	for _, g := range rf.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q: a name and rules are required", g.Name)
		}
		for _, r := range g.Rules {
			alerts++
			if (r.Alert == "") == (r.Record == "") || strings.TrimSpace(r.Expr) == "" {
				t.Errorf("rule %q/%q: exactly one of alert and record, and an expr, are required", r.Alert, r.Record)
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
				}
			}
			if sev := r.Labels["severity"]; sev != "page" && sev != "ticket" {
				t.Errorf("%s: severity %q, want page or ticket", r.Alert, sev)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: summary and description are required", r.Alert)
			}
			if strings.Count(r.Expr, "(") != strings.Count(r.Expr, ")") {
				t.Errorf("%s: unbalanced parentheses in %q", r.Alert, r.Expr)
			}
			for _, name := range append(metricsIn(r.Expr), metricsIn(r.Annotations["summary"])...) {
				used[name] = true
				if !names[name] {
					t.Errorf("alert %s uses %s, which /metrics does not export", r.Alert, name)
				}
			}
		}
	}
	if alerts < 10 {
		t.Errorf("only %d alert rules", alerts)
	}

	// The dashboard.
	var dash struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	dpath := filepath.Join(deployDir, "grafana", "billkey-dashboard.json")
	ddata, err := os.ReadFile(dpath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(ddata, &dash); err != nil {
		t.Fatalf("%s: %v", dpath, err)
	}
	for _, p := range dash.Panels {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			for _, name := range metricsIn(q.Expr) {
				used[name] = true
				if !names[name] {
					t.Errorf("dashboard panel %q uses %s, which /metrics does not export", p.Title, name)
				}
			}
		}
	}
	// What operators must watch is on the dashboard or in an alert.
	for _, must := range []string{"billkey_charges_total", "billkey_pg_request_duration_seconds_bucket", "billkey_pg_requests_total",
		"billkey_unknown_outcomes", "billkey_unknown_outcome_oldest_age_seconds", "billkey_webhook_backlog",
		"billkey_webhook_oldest_undelivered_age_seconds", "billkey_schedules_due", "billkey_schedule_lag_seconds",
		"billkey_window_attempts_total", "billkey_store_snapshot_up"} {
		if !used[must] {
			t.Errorf("%s is in neither the alert rules nor the dashboard", must)
		}
	}
	list := make([]string, 0, len(used))
	for n := range used {
		list = append(list, n)
	}
	sort.Strings(list)
	t.Logf("metrics used by the rules and dashboard, all exported: %s", strings.Join(list, " "))
}
