// Command pulumi-language-go is a minimal Go language host for the pulumi
// engine, written for this project.
//
// Why it exists: upstream's host is the Go module
// github.com/pulumi/pulumi/sdk/go/pulumi-language-go/v3, which the Go module
// proxy available here does not serve (403), so it cannot be built. A Go
// program needs little from its host: it is compiled with the user's `go`
// toolchain and reads everything it needs to reach the engine from the
// environment (sdk/v3/go/pulumi/run.go, getEnvInfo). The host's other job,
// `pulumi package gen-sdk --language go`, is a call into
// pkg/v3/codegen/go.
//
// Left out (answer Unimplemented): plugin discovery from go.mod (so provider
// plugins of Go SDK dependencies are not installed automatically), program and
// project conversion, Pack/Link, templates, debugging, RunPlugin.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"dpl.local/tools/pulumi/internal/codegenhost"
	"dpl.local/tools/pulumi/internal/langhost"
)

const name = "pulumi-language-go"

func main() {
	langhost.Serve(name, func(f langhost.Flags) pulumirpc.LanguageRuntimeServer {
		// -tracing is not passed on: the Go SDK reads no tracing endpoint from
		// environment; it uses PULUMI_OTEL_EXPORTER_OTLP_ENDPOINT, which the engine
		// sets for plugins and the program inherits from us.
		h := &goHost{}
		h.Engine.Set(f.EngineAddress)
		return h
	})
}

// goHost implements pulumirpc.LanguageRuntimeServer; the embedded
// Unimplemented server answers the RPCs we leave out, which the engine
// treats as "not supported".
type goHost struct {
	langhost.Base
}

// Run compiles the program (unless Pulumi.yaml's runtime.options.binary names
// a prebuilt one) and runs it with the environment the Go SDK reads.
func (h *goHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	pwd, programDir := langhost.ProgramDirs(req)

	binary, _ := req.GetInfo().GetOptions().AsMap()["binary"].(string)
	if binary != "" {
		if !filepath.IsAbs(binary) {
			binary = filepath.Join(programDir, binary)
		}
	} else {
		// `go build` into a temporary file rather than `go run`: go run maps every
		// program failure to its own exit status 1, which would hide exit code 32
		// (error already logged) and turn it into a second error message.
		tmp, err := os.MkdirTemp("", "pulumi-go-program-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		binary = filepath.Join(tmp, "program")
		target := "."
		if ep := req.GetInfo().GetEntryPoint(); ep != "" && ep != "." {
			target = "./" + filepath.ToSlash(filepath.Clean(ep))
		}
		build := exec.CommandContext(ctx, goBinary(), "build", "-o", binary, target)
		build.Dir = programDir
		// Build errors go where the engine shows program output.
		build.Stdout = os.Stderr
		build.Stderr = os.Stderr
		start := time.Now()
		if err := build.Run(); err != nil {
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("go build of %s failed: %v", programDir, err)}, nil
		}
		logV("built the program in %s", time.Since(start).Round(time.Millisecond))
	}

	env, err := langhost.ConfigEnv(req)
	if err != nil {
		return nil, err
	}
	// Names from sdk/v3/go/pulumi/run.go (getEnvInfo).
	env = append(env,
		"PULUMI_MONITOR="+req.GetMonitorAddress(),
		"PULUMI_ENGINE="+h.Engine.Get(),
		"PULUMI_PROJECT="+req.GetProject(),
		"PULUMI_STACK="+req.GetStack(),
		"PULUMI_ORGANIZATION="+req.GetOrganization(),
		"PULUMI_ROOT_DIRECTORY="+req.GetInfo().GetRootDirectory(),
		"PULUMI_DRY_RUN="+strconv.FormatBool(req.GetDryRun()),
		"PULUMI_PARALLEL="+strconv.Itoa(int(req.GetParallel())),
	)

	cmd := exec.CommandContext(ctx, binary, req.GetArgs()...)
	cmd.Dir = pwd
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	return langhost.RunProgram(ctx, cmd), nil
}

// InstallDependencies downloads the modules go.mod requires. It does not run
// `go mod tidy`, which would rewrite the user's go.mod behind their back.
func (h *goHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, stream pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetDirectory() //nolint:staticcheck // fallback for old engines
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		return status.Errorf(codes.FailedPrecondition, "no go.mod in %s", dir)
	}
	cmd := exec.CommandContext(stream.Context(), goBinary(), "mod", "download")
	cmd.Dir = dir
	return langhost.InstallStream(cmd, stream)
}

// GeneratePackage writes a Go SDK with upstream's generator. Its import paths
// come from the schema's language.go.importBasePath (ours:
// github.com/prophetstor/pulumi-dpl/sdk/go/dpl); files land under
// <out>/<package name>/. The Go generator takes no overlays, so extra files
// are added at the SDK root here.
func (h *goHost) GeneratePackage(
	ctx context.Context, req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	return codegenhost.GeneratePackage(ctx, req, func(
		pkg *schema.Package, _ schema.ReferenceLoader, req *pulumirpc.GeneratePackageRequest,
	) (map[string][]byte, error) {
		files, err := gogen.GeneratePackage(name, pkg, req.GetLocalDependencies())
		if err != nil {
			return nil, err
		}
		return files, codegenhost.MergeExtraFiles(files, req.GetExtraFiles())
	})
}

// About tells `pulumi about` which go builds programs.
func (h *goHost) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	gobin := goBinary()
	out, err := exec.Command(gobin, "env", "GOVERSION").Output()
	if err != nil {
		return nil, fmt.Errorf("running %s env GOVERSION: %w", gobin, err)
	}
	return &pulumirpc.AboutResponse{
		Executable: gobin,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "go"),
	}, nil
}

// goBinary is `go` from PATH; PULUMI_GO_BINARY (our own knob) pins another.
func goBinary() string {
	if b := os.Getenv("PULUMI_GO_BINARY"); b != "" {
		return b
	}
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}

// logV writes a line to stderr only with PULUMI_LANGUAGE_GO_VERBOSE set; the
// engine would otherwise show it as program output.
func logV(format string, args ...any) {
	if os.Getenv("PULUMI_LANGUAGE_GO_VERBOSE") != "" {
		fmt.Fprintf(os.Stderr, name+": "+format+"\n", args...)
	}
}
