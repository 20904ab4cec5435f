// Package langhost holds what our Go and Python language hosts have in common:
// the plugin's startup protocol, the engine handshake, how a program's exit
// code maps to a RunResponse, the config environment, and streaming a
// command's output over a gRPC stream.
//
// (The Node.js host predates this package; it shares StreamCommand.)
package langhost

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Base answers the RPCs the Go and Python hosts answer alike; a host embeds
// it and adds Run, InstallDependencies and GeneratePackage. The embedded
// Unimplemented server answers the RPCs left out, which the engine treats as
// "not supported".
type Base struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	Engine Engine
}

// Handshake remembers the engine's address (programs need it to log).
func (b *Base) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	b.Engine.Set(req.GetEngineAddress())
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

// GetPluginInfo reports the version the host was linked with.
func (b *Base) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return PluginInfo(), nil
}

// GetRequiredPlugins: none. Upstream asks the program (Go: PULUMI_PLUGINS=true,
// Python: pulumi-plugin.json of installed packages) which provider plugins to
// download; this project's programs use only plugins installed beforehand.
func (b *Base) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

// GetRequiredPackages: none, for the same reason.
func (b *Base) GetRequiredPackages(context.Context, *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

// ExitCodeAlreadyReported is the exit code the Pulumi SDKs use after they have
// shown the user the error themselves (Go: constant.ExitStatusLoggedError,
// Python: the exec script's "user actionable message" code). The engine must
// then bail instead of printing a second, generic error.
const ExitCodeAlreadyReported = 32

// Flags are the command-line flags the engine may pass to a language plugin.
type Flags struct {
	Tracing string
	// EngineAddress is the legacy positional argument (engines before Handshake).
	EngineAddress string
}

// Serve parses the plugin's arguments, serves srv, prints the port (the first
// line of stdout is how the engine learns where we listen) and blocks.
// register receives the parsed flags so the server can be built from them.
func Serve(name string, register func(Flags) pulumirpc.LanguageRuntimeServer) {
	// Accept every flag the engine is known to add so parsing never fails;
	// only -tracing matters to us.
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	tracing := fs.String("tracing", "", "Zipkin-compatible tracing endpoint")
	fs.Bool("logtostderr", false, "ignored")
	fs.Bool("logflow", false, "ignored")
	fs.Int("v", 0, "ignored")
	fs.String("root", "", "ignored (the engine sends it in Handshake)")
	fs.String("binary", "", "ignored (read from runtime options instead)")
	fs.String("buildTarget", "", "ignored")
	fs.String("virtualenv", "", "ignored (read from runtime options instead)")
	fs.String("toolchain", "", "ignored")
	fs.String("typechecker", "", "ignored")
	if err := fs.Parse(os.Args[1:]); err != nil {
		Fatalf(name, "bad arguments: %v", err)
	}
	f := Flags{Tracing: *tracing}
	if rest := fs.Args(); len(rest) > 0 {
		f.EngineAddress = rest[len(rest)-1]
	}
	srv := register(f)

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(s *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(s, srv)
			return nil
		},
	})
	if err != nil {
		Fatalf(name, "could not start the gRPC server: %v", err)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		Fatalf(name, "gRPC server stopped: %v", err)
	}
}

// Fatalf prints to stderr (which the engine shows) and exits.
func Fatalf(name, format string, args ...any) {
	fmt.Fprintf(os.Stderr, name+": "+format+"\n", args...)
	os.Exit(1)
}

// Engine remembers the engine address, which arrives in Handshake after the
// server already runs, hence the lock.
type Engine struct {
	mu   sync.Mutex
	addr string
}

func (e *Engine) Set(addr string) {
	if addr == "" {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.addr = addr
}

func (e *Engine) Get() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.addr
}

// PluginInfo reports the version the binary was linked with (-ldflags -X
// .../version.Version=...), the same variable the CLI uses.
func PluginInfo() *pulumirpc.PluginInfo {
	v := version.Version
	if v == "" {
		v = "0.0.0-dev"
	}
	return &pulumirpc.PluginInfo{Version: v}
}

// ConfigEnv returns PULUMI_CONFIG (JSON object "<ns>:<key>" -> value) and
// PULUMI_CONFIG_SECRET_KEYS (JSON array), the variables every Pulumi SDK reads
// its stack configuration from.
func ConfigEnv(req *pulumirpc.RunRequest) ([]string, error) {
	cfg := req.GetConfig()
	if cfg == nil {
		cfg = map[string]string{}
	}
	keys := req.GetConfigSecretKeys()
	if keys == nil {
		keys = []string{}
	}
	c, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("serializing config: %w", err)
	}
	k, err := json.Marshal(keys)
	if err != nil {
		return nil, fmt.Errorf("serializing secret config keys: %w", err)
	}
	return []string{"PULUMI_CONFIG=" + string(c), "PULUMI_CONFIG_SECRET_KEYS=" + string(k)}, nil
}

// ProgramDirs returns the directory to run in (pwd) and the program directory,
// each falling back to the other, as engines fill one or both.
func ProgramDirs(req *pulumirpc.RunRequest) (pwd, programDir string) {
	pwd = req.GetPwd()
	programDir = req.GetInfo().GetProgramDirectory()
	if pwd == "" {
		pwd = programDir
	}
	if programDir == "" {
		programDir = pwd
	}
	return pwd, programDir
}

// RunResponse maps how the program ended to what the engine expects: 0 is
// success; 32 means the SDK already printed the error, so bail; any other exit
// becomes an error message the engine prints.
func RunResponse(err error) *pulumirpc.RunResponse {
	if err == nil {
		return &pulumirpc.RunResponse{}
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Exited() {
			if ws.ExitStatus() == ExitCodeAlreadyReported {
				return &pulumirpc.RunResponse{Bail: true}
			}
			return &pulumirpc.RunResponse{
				Error: fmt.Sprintf("Program exited with non-zero exit code: %d", ws.ExitStatus()),
			}
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited unexpectedly: %v", exitErr)}
	}
	return &pulumirpc.RunResponse{Error: fmt.Sprintf("Problem executing program: %v", err)}
}

// RunProgram runs cmd with our stdout/stderr, which the engine captures and
// shows as the program's output, and maps the result.
func RunProgram(ctx context.Context, cmd *exec.Cmd) *pulumirpc.RunResponse {
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	err := cmd.Run()
	// Flush before answering so the program's last words precede the summary.
	_ = os.Stdout.Sync()
	_ = os.Stderr.Sync()
	if ctx.Err() != nil && err != nil {
		return &pulumirpc.RunResponse{Error: "program cancelled: " + ctx.Err().Error()}
	}
	return RunResponse(err)
}

// InstallStream runs cmd and forwards its output to an InstallDependencies stream.
func InstallStream(cmd *exec.Cmd, stream pulumirpc.LanguageRuntime_InstallDependenciesServer) error {
	return StreamCommand(cmd,
		func(b []byte) error { return stream.Send(&pulumirpc.InstallDependenciesResponse{Stdout: b}) },
		func(b []byte) error { return stream.Send(&pulumirpc.InstallDependenciesResponse{Stderr: b}) },
	)
}

// StreamCommand runs cmd and forwards its stdout and stderr line by line.
// Sends are serialized because a gRPC stream is not safe for concurrent Send.
func StreamCommand(cmd *exec.Cmd, onStdout, onStderr func([]byte) error) error {
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
