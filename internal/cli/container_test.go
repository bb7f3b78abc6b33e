package cli_test

import (
	"context"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestContainerImageAnswersReadyz builds deploy/Dockerfile with the
// container engine on this machine (docker or podman) and checks that a
// container of the image answers /readyz with 200. It is the one test that
// may skip: without a usable engine there is nothing to run the image
// with, and the skip message says which engine is missing or unusable.
func TestContainerImageAnswersReadyz(t *testing.T) {
	engine := ""
	for _, e := range []string{"docker", "podman"} {
		if _, err := exec.LookPath(e); err == nil {
			engine = e
			break
		}
	}
	if engine == "" {
		t.Skip("no container engine (docker or podman) on PATH: the image build and /readyz check did not run")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, engine, "info").CombinedOutput(); err != nil {
		t.Skipf("%s is on PATH but unusable (%v): the image build and /readyz check did not run: %s", engine, err, engineError(string(out)))
	}
	root := filepath.Join("..", "..")
	tag := "billkey-test:containertest"
	build := exec.CommandContext(ctx, engine, "build", "-f", filepath.Join(root, "deploy", "Dockerfile"), "-t", tag, root)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%s build: %v\n%s", engine, err, out)
	}
	run := exec.CommandContext(ctx, engine, "run", "-d", "--rm", "-p", "127.0.0.1::8080", tag)
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("%s run: %v\n%s", engine, err, out)
	}
	id := strings.TrimSpace(string(out))
	defer exec.Command(engine, "rm", "-f", id).Run()
	port, err := exec.CommandContext(ctx, engine, "port", id, "8080/tcp").Output()
	if err != nil {
		t.Fatalf("%s port: %v", engine, err)
	}
	addr := strings.TrimSpace(strings.Split(string(port), "\n")[0])
	var last string
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		res, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			last = err.Error()
			continue
		}
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			v, _ := exec.CommandContext(ctx, engine, "exec", id, "/usr/local/bin/billkey", "version").CombinedOutput()
			t.Logf("container %s answers /readyz 200; %s", id[:12], firstLines(string(v), 1))
			return
		}
		last = res.Status
	}
	logs, _ := exec.Command(engine, "logs", id).CombinedOutput()
	t.Fatalf("the container never answered /readyz 200 (last: %s); logs:\n%s", last, logs)
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// engineError picks the engine's complaint out of its info output.
func engineError(out string) string {
	var picked []string
	for _, l := range strings.Split(out, "\n") {
		if low := strings.ToLower(l); strings.Contains(low, "cannot") || strings.Contains(low, "error") {
			picked = append(picked, strings.TrimSpace(l))
		}
	}
	if len(picked) == 0 {
		return firstLines(out, 3)
	}
	return strings.Join(picked, "; ")
}
