package chartcheck

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
)

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// start runs a command until the test ends.
func start(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
}

// waitHealthy polls mcroute's /healthz, the endpoint of the chart's probes.
func waitHealthy(t *testing.T, metricsAddr string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + metricsAddr + "/healthz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Logf("GET /healthz: %d %s", resp.StatusCode, strings.TrimSpace(string(body)))
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("mcroute's /healthz did not answer 200: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// firstLine runs a long-running client with env until it prints a line.
func firstLine(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("%s printed no line: %v", name, err)
	}
	return strings.TrimSpace(line)
}

// TestClients runs the example clients for real: memcached, mcroute serve on
// a unix socket and a TCP port (as the sidecar and the DaemonSet listen),
// the chart's sidecar app command, the node-local app command, and the
// PHP snippet of the PHP-FPM example through PHP's Memcached extension.
func TestClients(t *testing.T) {
	memcached, err := exec.LookPath("memcached")
	if err != nil {
		t.Skip("memcached is not installed (Debian package memcached)")
	}
	dir, err := os.MkdirTemp("", "mcroute-clients") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	mcPort := freePort(t)
	mcArgs := []string{"-l", "127.0.0.1", "-p", fmt.Sprint(mcPort), "-U", "0", "-m", "16"}
	if os.Getuid() == 0 {
		mcArgs = append(mcArgs, "-u", "nobody")
	}
	start(t, memcached, mcArgs...)

	policy := filepath.Join(dir, "policy.cue")
	text := fmt.Sprintf("package policy\n\npools: cache: servers: [\"127.0.0.1:%d\"]\n\nroute: {type: \"PoolRoute\", pool: \"cache\"}\n", mcPort)
	if err := os.WriteFile(policy, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "mcroute.sock")
	tcpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	metricsAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	start(t, mcrouteBin, "serve", "--config="+policy, "--listen=unix:"+sock, "--listen="+tcpAddr,
		"--socket-mode=0666", "--metrics-listen="+metricsAddr, "--log-level=warn")
	waitHealthy(t, metricsAddr)

	t.Run("chart sidecar app", func(t *testing.T) {
		if _, err := exec.LookPath("python3"); err != nil {
			t.Skip("python3 is not installed")
		}
		vals, err := ReadValues(filepath.Join(chartDir, "ci", "sidecar-values.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		d, ok := Find[*appsv1.Deployment](renderObjs(t, releaseName, namespace, vals))
		if !ok {
			t.Fatal("no app Deployment")
		}
		command := d.Spec.Template.Spec.Containers[0].Command
		got := firstLine(t, []string{"MEMCACHED_SOCKET=" + sock}, command[0], command[1:]...)
		if want := "STORED | VALUE hello 0 5 | world | END |"; got != want {
			t.Errorf("sidecar app printed %q, want %q", got, want)
		}
	})

	t.Run("node-local app", func(t *testing.T) {
		if _, err := exec.LookPath("python3"); err != nil {
			t.Skip("python3 is not installed")
		}
		b, err := os.ReadFile("../app/node-local.yaml")
		if err != nil {
			t.Fatal(err)
		}
		objs, err := DecodeStrict(string(b))
		if err != nil {
			t.Fatal(err)
		}
		d, _ := Find[*appsv1.Deployment](objs)
		command := d.Spec.Template.Spec.Containers[0].Command
		got := firstLine(t, []string{"MEMCACHED_SERVERS=" + tcpAddr, "HOSTNAME=cache-demo-1"}, command[0], command[1:]...)
		if want := "127.0.0.1 STORED | VALUE demo:cache-demo-1 0 12 | cache-demo-1 | END |"; got != want {
			t.Errorf("node-local app printed %q, want %q", got, want)
		}
	})

	t.Run("php", func(t *testing.T) {
		php, err := exec.LookPath("php")
		if err != nil {
			t.Skip("php is not installed (Debian packages php-cli php-memcached)")
		}
		if out, _ := exec.Command(php, "-m").Output(); !slices.Contains(strings.Fields(string(out)), "memcached") {
			t.Skip("PHP's memcached extension is not installed (Debian package php-memcached)")
		}
		for i := 1; i <= 2; i++ {
			cmd := exec.Command(php, "../app/php/index.php")
			cmd.Env = append(os.Environ(), "MEMCACHED_SOCKET="+sock)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("php index.php: %v\n%s", err, out)
			}
			t.Logf("php index.php:\n%s", out)
			if want := fmt.Sprintf("views: %d\n", i); !strings.HasPrefix(string(out), want) {
				t.Errorf("view %d printed %q, want it to start with %q", i, out, want)
			}
			if !strings.Contains(string(out), "(SUCCESS)") {
				t.Errorf("the last Memcached call did not succeed: %q", out)
			}
		}
	})

	// The requests above went through mcroute and show in its metrics.
	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `mcroute_requests_total{op="get",result="found"}`) {
		t.Errorf("/metrics shows no found gets:\n%s", body)
	}
}
