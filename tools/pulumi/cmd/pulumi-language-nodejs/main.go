// Command pulumi-language-nodejs is a minimal Node.js language host for the
// pulumi engine, written for this project.
//
// Why it exists: upstream's host lives in the Go module
// github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3, which the
// Go module proxy available here does not serve, so it cannot be built. The
// host's job is small, though: the engine asks it over gRPC to run a program,
// and the real work is done by the JavaScript runner that ships inside the
// @pulumi/pulumi npm package (cmd/run). This file only translates a RunRequest
// into that runner's command line and environment, and its exit code back into
// a RunResponse.
//
// Deliberately left out (not needed by this project): plugin discovery from
// node_modules (GetRequiredPackages returns none, the only plugin we use is the
// bundled `pulumi-nodejs` dynamic-provider host found on PATH), code generation
// (GenerateProject/Program/Package, Pack, Link), templates, debugger attach,
// Node version managers, pnpm/yarn/bun support.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// exitCodeAlreadyReported is the exit code @pulumi/pulumi's runners use when
// they have already shown the user an actionable error message (see
// nodeJSProcessExitedAfterLoggingUserActionableMessage in cmd/run). The engine
// must then "bail": stop without printing a second, generic error.
const exitCodeAlreadyReported = 32

// runnerEnvOverride lets a test point the host at a different runner script,
// the same escape hatch upstream offers.
const runnerEnvOverride = "PULUMI_LANGUAGE_NODEJS_RUN_PATH"

func main() {
	// The engine starts language plugins as `<plugin> [flags] <engine-address>`,
	// where the flags it may add are logging and tracing ones; older engines
	// also passed runtime options as flags. We accept them all so parsing never
	// fails, and only use -tracing.
	fs := flag.NewFlagSet("pulumi-language-nodejs", flag.ContinueOnError)
	tracing := fs.String("tracing", "", "Zipkin-compatible tracing endpoint, passed on to the runner")
	fs.Bool("logtostderr", false, "ignored")
	fs.Bool("logflow", false, "ignored")
	fs.Int("v", 0, "ignored")
	fs.String("root", "", "ignored (the engine sends it in Handshake)")
	fs.Bool("typescript", true, "ignored (read from runtime options instead)")
	fs.String("nodeargs", "", "ignored (read from runtime options instead)")
	fs.String("packagemanager", "", "ignored")
	if err := fs.Parse(os.Args[1:]); err != nil {
		fatalf("bad arguments: %v", err)
	}

	host := &nodeHost{tracing: *tracing}
	// Engines that predate Handshake pass their address as the last argument.
	if rest := fs.Args(); len(rest) > 0 {
		host.engineAddress = rest[len(rest)-1]
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		fatalf("could not start the gRPC server: %v", err)
	}

	// Plugin protocol: the first line on stdout is the port we listen on.
	fmt.Printf("%d\n", handle.Port)

	if err := <-handle.Done; err != nil {
		fatalf("gRPC server stopped: %v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: "+format+"\n", args...)
	os.Exit(1)
}

// nodeHost implements pulumirpc.LanguageRuntimeServer. Embedding the
// Unimplemented server answers every RPC we leave out with codes.Unimplemented,
// which the engine treats as "feature not supported" and works around.
type nodeHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	tracing string

	mu            sync.Mutex
	engineAddress string
}

func (h *nodeHost) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

// Handshake gives us the engine's address; the runner needs it to send logs.
func (h *nodeHost) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

// GetPluginInfo reports the version the binary was linked with (-ldflags -X
// .../version.Version=...), the same variable the CLI uses.
func (h *nodeHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	v := version.Version
	if v == "" {
		v = "0.0.0-dev"
	}
	return &pulumirpc.PluginInfo{Version: v}, nil
}

// GetRequiredPlugins and GetRequiredPackages return nothing: the engine would
// otherwise try to download provider plugins, and the only one this project
// uses (pulumi-nodejs, for dynamic providers) is found on PATH when needed.
func (h *nodeHost) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *nodeHost) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

// Run executes the program with @pulumi/pulumi's runner and maps its exit code.
func (h *nodeHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	pwd := req.GetPwd()
	if pwd == "" {
		pwd = info.GetProgramDirectory()
	}
	programDir := info.GetProgramDirectory()
	if programDir == "" {
		programDir = pwd
	}

	//nolint:staticcheck // Program is deprecated but still the field the engine fills with the entry point.
	program := req.GetProgram()
	if program == "" {
		program = info.GetEntryPoint()
	}
	if program == "" {
		// "." makes the runner honour package.json "main"/"exports", like `node .`.
		program = "."
	} else if !filepath.IsAbs(program) && programDir != pwd && program != "." {
		// The runner resolves the program against --pwd; the entry point is relative
		// to the program directory.
		program = filepath.Join(programDir, program)
	}

	runner, err := resolveFrom(programDir, os.Getenv(runnerEnvOverride), "@pulumi/pulumi/cmd/run")
	if err != nil {
		// Shown to the user as the program's error.
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	opts := runtimeOptions(info)

	// Runner flags use the --k=v form: minimist would otherwise swallow the next
	// argument as the value of a flag this runner version does not declare.
	args := append([]string{}, opts.nodeArgs...)
	args = append(args, runner)
	addFlag := func(k, v string) {
		if v != "" {
			args = append(args, "--"+k+"="+v)
		}
	}
	addFlag("monitor", req.GetMonitorAddress())
	addFlag("engine", h.engine())
	addFlag("organization", req.GetOrganization())
	addFlag("project", req.GetProject())
	addFlag("stack", req.GetStack())
	addFlag("pwd", pwd)
	addFlag("root-directory", info.GetRootDirectory())
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetParallel() > 0 {
		addFlag("parallel", fmt.Sprint(req.GetParallel()))
	}
	addFlag("tracing", h.tracing)
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	// Config travels in the environment, as JSON, because nested copies of
	// @pulumi/pulumi loaded by the program must see it too. Keys are
	// "<namespace>:<name>"; the SDK also accepts the legacy "<ns>:config:<name>".
	configJSON, err := json.Marshal(nonNilMap(req.GetConfig()))
	if err != nil {
		return nil, fmt.Errorf("serializing config: %w", err)
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, fmt.Errorf("serializing secret config keys: %w", err)
	}

	env := os.Environ()
	env = append(env,
		"PULUMI_CONFIG="+string(configJSON),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeysJSON),
	)
	// The runner registers ts-node itself when told the program is TypeScript;
	// Pulumi.yaml's `runtime.options.typescript: false` turns that off.
	if opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}

	// The program's output goes to our stdout/stderr, which the engine already
	// captures and shows as the program's diagnostics.
	cmd := exec.CommandContext(ctx, nodeBinary(), args...)
	cmd.Dir = pwd
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	// If the engine goes away mid-run (ctx cancelled), don't leave node behind.
	cmd.WaitDelay = 5 * time.Second

	runErr := cmd.Run()
	// Flush what node wrote before we answer, so the error message is not
	// overtaken by the engine's summary.
	_ = os.Stdout.Sync()
	_ = os.Stderr.Sync()
	return runResponse(runErr), nil
}

// runResponse maps how node ended to what the engine expects: 0 is success;
// exit code 32 means the runner already printed the error, so "bail" (stop
// quietly); any other failure becomes an error message the engine prints.
func runResponse(err error) *pulumirpc.RunResponse {
	if err == nil {
		return &pulumirpc.RunResponse{}
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Exited() {
			if ws.ExitStatus() == exitCodeAlreadyReported {
				return &pulumirpc.RunResponse{Bail: true}
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", ws.ExitStatus()),
			}
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited unexpectedly: %v", exitErr)}
	}
	return &pulumirpc.RunResponse{
		Error: fmt.Sprintf("Problem executing program (could not run language executor): %v", err),
	}
}

// options holds the Pulumi.yaml `runtime.options` this host honours.
type options struct {
	typescript bool
	tsconfig   string
	nodeArgs   []string
}

func runtimeOptions(info *pulumirpc.ProgramInfo) options {
	o := options{typescript: true}
	m := info.GetOptions().AsMap()
	if v, ok := m["typescript"].(bool); ok {
		o.typescript = v
	}
	if v, ok := m["tsconfig"].(string); ok {
		o.tsconfig = v
	}
	if v, ok := m["nodeargs"].(string); ok {
		o.nodeArgs = strings.Fields(v)
	}
	return o
}

// nodeBinary is "node" from PATH; exec resolves it. NODE_BINARY lets CI pin one.
func nodeBinary() string {
	if b := os.Getenv("NODE_BINARY"); b != "" {
		return b
	}
	if p, err := exec.LookPath("node"); err == nil {
		return p
	}
	return "node"
}

// resolveFrom asks node itself where a module lives, starting at dir. Node's
// resolution walks up through every parent node_modules (npm workspaces hoist
// @pulumi/pulumi to the repository root), which a fixed path would miss.
func resolveFrom(dir, override, module string) (string, error) {
	if override != "" {
		return override, nil
	}
	script := "process.stdout.write(require.resolve(process.argv[1], {paths: [process.argv[2]]}))"
	cmd := exec.Command(nodeBinary(), "-e", script, module, dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf(
			"could not find %s from %s (has `npm install` been run?): %v\n%s",
			module, dir, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// About tells `pulumi about` which node runs programs.
func (h *nodeHost) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node := nodeBinary()
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("running %s --version: %w", node, err)
	}
	return &pulumirpc.AboutResponse{
		Executable: node,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
	}, nil
}
