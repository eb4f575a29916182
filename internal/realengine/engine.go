package realengine

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Environment variables the harness reads.
const (
	// RequireEnv, when "1", turns a missing node or npm package from a skip
	// into a failure; CI sets it.
	RequireEnv = "MRQA_REQUIRE_ENGINE"
	// ModulesEnv names the node_modules folder holding node-llama-cpp
	// (default: node/node_modules beside this package's sources).
	ModulesEnv = "MRQA_ENGINE_MODULES"
)

//go:embed node/server.mjs
var serverScript []byte

//go:embed node/package.json
var packageJSON []byte

// Runtime is a node executable and the npm packages the server needs.
type Runtime struct {
	Node    string
	Modules string
}

// FindRuntime locates node and the pinned node-llama-cpp packages, or says
// what is missing and how to install it.
func FindRuntime() (*Runtime, error) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return nil, fmt.Errorf("the pinned llama.cpp binaries are for linux-x64, not %s-%s", runtime.GOOS, runtime.GOARCH)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, errors.New("node is not installed (Node.js 20 or later)")
	}
	modules := os.Getenv(ModulesEnv)
	if modules == "" {
		modules = filepath.Join("node", "node_modules")
	}
	if modules, err = filepath.Abs(modules); err != nil {
		return nil, fmt.Errorf("realengine: %w", err)
	}
	if err := checkPackages(modules); err != nil {
		return nil, fmt.Errorf("%w; install them with: %s", err, InstallCommand)
	}
	return &Runtime{Node: node, Modules: modules}, nil
}

// InstallCommand installs the pinned packages from node/package-lock.json
// into node/node_modules, without the GPU variants and without downloading
// or compiling llama.cpp.
const InstallCommand = "NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci --omit=optional --prefix internal/realengine/node"

// checkPackages verifies that modules holds every dependency package.json
// pins, at the pinned version.
func checkPackages(modules string) error {
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(packageJSON, &pkg); err != nil {
		return fmt.Errorf("realengine: node/package.json: %w", err)
	}
	for name, want := range pkg.Dependencies {
		var got struct {
			Version string `json:"version"`
		}
		data, err := os.ReadFile(filepath.Join(modules, name, "package.json"))
		if err == nil {
			err = json.Unmarshal(data, &got)
		}
		if err != nil {
			return fmt.Errorf("npm package %s@%s not found in %s", name, want, modules)
		}
		if got.Version != want {
			return fmt.Errorf("npm package %s is %s in %s, want %s", name, got.Version, modules, want)
		}
	}
	return nil
}

// Options configure one engine server.
type Options struct {
	Model    string // the GGUF file
	Slots    int    // sequences, each one conversation's KV cache (default 4)
	Context  int    // tokens per slot, also the longest prompt + answer (default 8192)
	KVBudget int    // tokens all slots may hold together; 0: no limit beyond the slots
	Dir      string // where the server script is written (default: a temporary folder)
}

// Server is a running engine server.
type Server struct {
	URL string // http://127.0.0.1:PORT, without /v1

	cmd    *exec.Cmd
	stdin  io.Closer
	dir    string // removed on Close when the harness made it
	stderr *tailBuffer
	exited chan struct{}
	once   sync.Once
}

// startTimeout bounds loading the model and creating the context, which
// takes seconds, more on a busy machine.
const startTimeout = 3 * time.Minute

// Start runs the server on 127.0.0.1 on a free port and returns once it
// is ready to serve.
func (r *Runtime) Start(ctx context.Context, o Options) (*Server, error) {
	s := &Server{stderr: &tailBuffer{max: 8 << 10}, exited: make(chan struct{})}
	script, err := s.writeScript(o.Dir)
	if err != nil {
		return nil, err
	}
	args := []string{script, "--model", o.Model, "--modules", r.Modules, "--port", "0",
		"--slots", strconv.Itoa(orDefault(o.Slots, 4)), "--context", strconv.Itoa(orDefault(o.Context, 8192)),
		"--kv-budget", strconv.Itoa(o.KVBudget), "--parent-stdin"}
	s.cmd = exec.Command(r.Node, args...)
	s.cmd.Env = append(os.Environ(), "NODE_LLAMA_CPP_SKIP_DOWNLOAD=true")
	s.cmd.Stderr = s.stderr
	stdout, err := s.cmd.StdoutPipe()
	if err == nil {
		// Held open until this process ends: the server exits when it
		// closes, so a killed test leaves no engine behind.
		s.stdin, err = s.cmd.StdinPipe()
	}
	if err != nil {
		s.cleanup()
		return nil, fmt.Errorf("realengine: %w", err)
	}
	if err := s.cmd.Start(); err != nil {
		s.cleanup()
		return nil, fmt.Errorf("realengine: starting node: %w", err)
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	if err := s.awaitReady(ctx, stdout); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func (s *Server) writeScript(dir string) (string, error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "mrqa-engine-*")
		if err != nil {
			return "", fmt.Errorf("realengine: %w", err)
		}
		dir, s.dir = d, d
	}
	path := filepath.Join(dir, "server.mjs")
	if err := os.WriteFile(path, serverScript, 0o644); err != nil {
		s.cleanup()
		return "", fmt.Errorf("realengine: %w", err)
	}
	return path, nil
}

// awaitReady reads the server's stdout until its ready line, then keeps
// draining it so the server never blocks on a full pipe.
func (s *Server) awaitReady(ctx context.Context, stdout io.Reader) error {
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var line struct {
				Ready bool   `json:"ready"`
				URL   string `json:"url"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Ready {
				ready <- line.URL
			}
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	select {
	case s.URL = <-ready:
		return nil
	case <-s.exited:
		return fmt.Errorf("realengine: the server exited before it was ready: %s", s.stderr.String())
	case <-ctx.Done():
		return fmt.Errorf("realengine: the server was not ready after %s: %w", startTimeout, ctx.Err())
	}
}

// Close stops the server: SIGTERM, then SIGKILL after 5 s.
func (s *Server) Close() {
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(os.Interrupt)
		_ = s.stdin.Close()
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
		s.cleanup()
	})
}

func (s *Server) cleanup() {
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// Stamp is the server's own timing of one request, on its monotonic clock.
type Stamp struct {
	ArrivalMS    float64 `json:"arrival_ms"`
	FirstTokenMS float64 `json:"first_token_ms"`
	TTFT         float64 `json:"ttft_s"` // first token − arrival, seconds
	PromptTokens int     `json:"prompt_tokens"`
	CachedTokens int     `json:"cached_tokens"`
}

// Stamps returns the server's stamps by X-Request-Id.
func (s *Server) Stamps(ctx context.Context) (map[string]Stamp, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/stamps", nil)
	if err != nil {
		return nil, fmt.Errorf("realengine: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("realengine: stamps: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		Stamps map[string]Stamp `json:"stamps"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("realengine: stamps: %w", err)
	}
	return out.Stamps, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.b))
}
