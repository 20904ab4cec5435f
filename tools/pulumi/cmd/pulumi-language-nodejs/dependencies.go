// Dependencies and plugins: what package.json declares and node_modules holds,
// `npm install` on request, and plugins run with their output streamed to the
// engine.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"

	"dpl.local/tools/pulumi/internal/langhost"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

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
	return langhost.StreamCommand(cmd,
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
	err := langhost.StreamCommand(cmd,
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
