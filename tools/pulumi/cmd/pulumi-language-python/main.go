// Command pulumi-language-python is a minimal Python language host for the
// pulumi engine, written for this project.
//
// Why it exists: upstream's host is the Go module
// github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3, which the
// Go module proxy available here does not serve (403). As with Node.js, the
// real runner is not Go: upstream ships a Python script,
// pulumi-language-python-exec, that configures the `pulumi` package from its
// flags and runs the program. That script is not in the `pulumi` wheel; it is in
// the github.com/pulumi/pulumi/sdk/v3 Go module this tools module already
// depends on, and scripts/setup-pulumi.sh copies it next to this binary.
//
// Left out (answer Unimplemented): plugin discovery from installed packages,
// poetry/uv toolchains, type checkers, program conversion, Pack/Link,
// templates, debugging, RunPlugin (Python providers/policy packs).
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

	pygen "github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"dpl.local/tools/pulumi/internal/codegenhost"
	"dpl.local/tools/pulumi/internal/langhost"
)

const (
	name = "pulumi-language-python"
	// execScript is the upstream runner's file name, looked up beside this binary.
	execScript = "pulumi-language-python-exec"
	// execScriptOverride points the host at the runner explicitly (tests, or a
	// checkout of pulumi/pulumi).
	execScriptOverride = "PULUMI_LANGUAGE_PYTHON_EXEC"
)

func main() {
	langhost.Serve(name, func(f langhost.Flags) pulumirpc.LanguageRuntimeServer {
		h := &pyHost{tracing: f.Tracing}
		h.Engine.Set(f.EngineAddress)
		return h
	})
}

type pyHost struct {
	langhost.Base
	tracing string
}

// Run starts `python pulumi-language-python-exec <flags> <program>`.
func (h *pyHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	pwd, programDir := langhost.ProgramDirs(req)
	runner, err := findExecScript()
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	py := interpreter(req.GetInfo())

	program := req.GetInfo().GetEntryPoint()
	if program == "" {
		program = "." // a directory: the runner executes its __main__.py
	}
	// The runner chdirs to --pwd before resolving the program, and the entry
	// point is relative to the program directory, so make it absolute.
	if !filepath.IsAbs(program) {
		program = filepath.Join(programDir, program)
	}

	// The runner's argparse flags (underscores, not dashes); "--k=v" so a value
	// can never be taken for a flag. --parallel is always given because the
	// runner calls int() on it unconditionally.
	args := []string{runner,
		"--monitor=" + req.GetMonitorAddress(),
		"--engine=" + h.Engine.Get(),
		"--project=" + req.GetProject(),
		"--stack=" + req.GetStack(),
		"--pwd=" + pwd,
		"--dry_run=" + strconv.FormatBool(req.GetDryRun()),
		"--parallel=" + strconv.Itoa(int(req.GetParallel())),
		"--organization=" + req.GetOrganization(),
		"--root_directory=" + req.GetInfo().GetRootDirectory(),
	}
	if h.tracing != "" {
		args = append(args, "--tracing="+h.tracing)
	}
	// "--" so program arguments that look like flags go to the program.
	args = append(args, "--", program)
	args = append(args, req.GetArgs()...)

	env, err := langhost.ConfigEnv(req)
	if err != nil {
		return nil, err
	}
	// Unbuffered, so output interleaves with the engine's in real time and is
	// not lost if the process is killed.
	env = append(env, "PYTHONUNBUFFERED=1")

	cmd := exec.CommandContext(ctx, py.path, args...)
	cmd.Dir = pwd
	cmd.Env = append(append(os.Environ(), py.env...), env...)
	cmd.WaitDelay = 5 * time.Second
	return langhost.RunProgram(ctx, cmd), nil
}

// python is the interpreter to use and the environment that activates it.
type python struct {
	path string
	venv string   // "" when not a virtualenv from runtime options
	env  []string // VIRTUAL_ENV / PATH for a virtualenv
}

// interpreter honours Pulumi.yaml's runtime.options.virtualenv (relative to the
// project root, like upstream); otherwise PULUMI_PYTHON_CMD, then python3.
func interpreter(info *pulumirpc.ProgramInfo) python {
	if venv, _ := info.GetOptions().AsMap()["virtualenv"].(string); venv != "" {
		if !filepath.IsAbs(venv) {
			root := info.GetRootDirectory()
			if root == "" {
				root = info.GetProgramDirectory()
			}
			venv = filepath.Join(root, venv)
		}
		bin := filepath.Join(venv, "bin")
		return python{
			path: filepath.Join(bin, "python"),
			venv: venv,
			// What `activate` does, so subprocesses the program starts
			// (pip, console scripts) use the same environment.
			env: []string{"VIRTUAL_ENV=" + venv, "PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")},
		}
	}
	if cmd := os.Getenv("PULUMI_PYTHON_CMD"); cmd != "" {
		return python{path: cmd}
	}
	for _, c := range []string{"python3", "python"} {
		if p, err := exec.LookPath(c); err == nil {
			return python{path: p}
		}
	}
	return python{path: "python3"}
}

// findExecScript returns the runner: the override, else the file beside our
// own (symlink-resolved) executable, where setup-pulumi.sh puts it.
func findExecScript() (string, error) {
	if p := os.Getenv(execScriptOverride); p != "" {
		return p, nil
	}
	self, err := os.Executable()
	if err == nil {
		if real, err := filepath.EvalSymlinks(self); err == nil {
			self = real
		}
		p := filepath.Join(filepath.Dir(self), execScript)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found beside %s (run scripts/setup-pulumi.sh, or set %s)",
		execScript, self, execScriptOverride)
}

// InstallDependencies creates the runtime.options.virtualenv if it is missing
// and installs requirements.txt into the interpreter's environment.
func (h *pyHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, stream pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	info := req.GetInfo()
	dir := info.GetProgramDirectory()
	if dir == "" {
		dir = req.GetDirectory() //nolint:staticcheck // fallback for old engines
	}
	py := interpreter(info)
	if py.venv != "" {
		if _, err := os.Stat(py.path); err != nil {
			base := interpreter(&pulumirpc.ProgramInfo{}) // the system python
			create := exec.CommandContext(stream.Context(), base.path, "-m", "venv", py.venv)
			if err := langhost.InstallStream(create, stream); err != nil {
				return fmt.Errorf("creating virtualenv %s: %w", py.venv, err)
			}
		}
	}
	reqs := filepath.Join(dir, "requirements.txt")
	if _, err := os.Stat(reqs); err != nil {
		return status.Errorf(codes.FailedPrecondition, "no requirements.txt in %s", dir)
	}
	cmd := exec.CommandContext(stream.Context(), py.path, "-m", "pip", "install", "-r", reqs)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), py.env...)
	return langhost.InstallStream(cmd, stream)
}

// GeneratePackage writes a Python SDK with upstream's generator; it places
// overlays (extra files) inside the package directory itself.
func (h *pyHost) GeneratePackage(
	ctx context.Context, req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	return codegenhost.GeneratePackage(ctx, req, func(
		pkg *schema.Package, loader schema.ReferenceLoader, req *pulumirpc.GeneratePackageRequest,
	) (map[string][]byte, error) {
		return pygen.GeneratePackage(name, pkg, req.GetExtraFiles(), loader)
	})
}

// About tells `pulumi about` which python runs programs.
func (h *pyHost) About(_ context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	py := interpreter(req.GetInfo())
	out, err := exec.Command(py.path, "--version").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("running %s --version: %w", py.path, err)
	}
	return &pulumirpc.AboutResponse{
		Executable: py.path,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "Python "),
	}, nil
}
