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
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
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

// GetProgramDependencies lists package.json's dependencies with the version
// installed where node would find it, or the declared range when not
// installed. Only `pulumi about` and update metadata use this.
func (h *nodeHost) GetProgramDependencies(
	_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetPwd() //nolint:staticcheck // fallback for old engines
	}
	manifest, err := findUp(dir, "package.json")
	if err != nil {
		return &pulumirpc.GetProgramDependenciesResponse{}, nil
	}
	var pkg struct {
		Dependencies    map[string]string `json:"dependencies"`
		DevDependencies map[string]string `json:"devDependencies"`
	}
	data, err := os.ReadFile(manifest)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &pkg); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", manifest, err)
	}
	declared := map[string]string{}
	for k, v := range pkg.DevDependencies {
		declared[k] = v
	}
	for k, v := range pkg.Dependencies {
		declared[k] = v
	}
	names := make([]string, 0, len(declared))
	for n := range declared {
		names = append(names, n)
	}
	sort.Strings(names)

	resp := &pulumirpc.GetProgramDependenciesResponse{}
	for _, name := range names {
		ver := declared[name]
		if installed, err := findUp(filepath.Dir(manifest), filepath.Join("node_modules", name, "package.json")); err == nil {
			var p struct {
				Version string `json:"version"`
			}
			if b, err := os.ReadFile(installed); err == nil && json.Unmarshal(b, &p) == nil && p.Version != "" {
				ver = p.Version
			}
		}
		resp.Dependencies = append(resp.Dependencies, &pulumirpc.DependencyInfo{Name: name, Version: ver})
	}
	return resp, nil
}

// findUp returns dir/rel or the nearest ancestor's, like node's lookup.
func findUp(dir, rel string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, rel)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if filepath.Dir(d) == d {
			return "", os.ErrNotExist
		}
	}
}

// InstallDependencies does nothing when @pulumi/pulumi already resolves from
// the program (the usual case: this repository's npm workspace installed it at
// the root), and otherwise runs `npm install` there, streaming its output.
func (h *nodeHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, stream pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetDirectory() //nolint:staticcheck // fallback for old engines
	}
	if _, err := resolveFrom(dir, "", "@pulumi/pulumi"); err == nil {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "package.json")); err != nil {
		return status.Errorf(codes.FailedPrecondition, "no package.json in %s and @pulumi/pulumi is not installed", dir)
	}
	cmd := exec.CommandContext(stream.Context(), "npm", "install")
	cmd.Dir = dir
	return streamCommand(cmd,
		func(b []byte) error { return stream.Send(&pulumirpc.InstallDependenciesResponse{Stdout: b}) },
		func(b []byte) error { return stream.Send(&pulumirpc.InstallDependenciesResponse{Stderr: b}) },
	)
}

// RunPlugin runs a plugin written in Node.js (a PulumiPlugin.yaml directory, or
// a PulumiPolicy.yaml policy pack) with @pulumi/pulumi's plugin or policy runner, streaming its output to the engine,
// which reads the plugin's port from that stdout.
func (h *nodeHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, stream pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	info := req.GetInfo()
	dir := info.GetProgramDirectory()
	if dir == "" {
		dir = req.GetPwd()
	}
	entry := info.GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	opts := runtimeOptions(info)
	var args []string
	if req.GetKind() == "analyzer" {
		// A policy pack (PulumiPolicy.yaml): @pulumi/pulumi's policy runner takes
		// `[flags] <engine-address> <program>`. The engine's own flags come first in
		// the plugin args and the address last; "--" keeps a valueless flag such as
		// --logtostderr from swallowing the address.
		runner, err := resolveFrom(dir, "", "@pulumi/pulumi/cmd/run-policy-pack")
		if err != nil {
			return status.Error(codes.FailedPrecondition, err.Error())
		}
		pluginArgs := req.GetArgs()
		if len(pluginArgs) == 0 {
			return status.Error(codes.InvalidArgument, "an analyzer plugin needs the engine address")
		}
		last := len(pluginArgs) - 1
		args = append(append([]string{}, opts.nodeArgs...), runner, "--pwd="+dir)
		args = append(args, pluginArgs[:last]...)
		args = append(args, "--", pluginArgs[last], entry)
	} else {
		runner, err := resolveFrom(dir, "", "@pulumi/pulumi/cmd/run-plugin")
		if err != nil {
			return status.Error(codes.FailedPrecondition, err.Error())
		}
		args = append(append([]string{}, opts.nodeArgs...), runner, "--pwd="+dir, entry)
		args = append(args, req.GetArgs()...)
	}

	cmd := exec.CommandContext(stream.Context(), nodeBinary(), args...)
	cmd.Dir = req.GetPwd()
	cmd.Env = append(os.Environ(), req.GetEnv()...)
	err := streamCommand(cmd,
		func(b []byte) error {
			return stream.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}})
		},
		func(b []byte) error {
			return stream.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}})
		},
	)
	code := 0
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	case err != nil:
		return err
	}
	return stream.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}})
}

// streamCommand runs cmd and forwards its stdout and stderr line by line.
// Sends are serialized because a gRPC stream is not safe for concurrent Send.
func streamCommand(cmd *exec.Cmd, onStdout, onStderr func([]byte) error) error {
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	var sendMu sync.Mutex
	var wg sync.WaitGroup
	forward := func(r io.Reader, send func([]byte) error) {
		defer wg.Done()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
		for sc.Scan() {
			line := append(append([]byte{}, sc.Bytes()...), '\n')
			sendMu.Lock()
			_ = send(line) // a dead stream must not stop us draining the pipe
			sendMu.Unlock()
		}
	}
	wg.Add(2)
	go forward(stdout, onStdout)
	go forward(stderr, onStderr)
	wg.Wait() // pipes must be drained before Wait closes them
	return cmd.Wait()
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
