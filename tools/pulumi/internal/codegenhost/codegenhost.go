// Package codegenhost is the part of the GeneratePackage RPC that all of our
// language hosts share: turn the schema the engine sends into a bound
// *schema.Package, hand it to a language's SDK generator, and write what that
// returns into the requested directory.
//
// Why it is shared: `pulumi package gen-sdk` does not generate SDKs itself; it
// asks the language plugin over gRPC. The generators live in
// github.com/pulumi/pulumi/pkg/v3/codegen/<language> and are plain functions,
// so each host only differs in which one it calls.
package codegenhost

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/hcl/v2"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/pkg/v3/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	codegenrpc "github.com/pulumi/pulumi/sdk/v3/proto/go/codegen"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Generator produces an SDK for pkg as a map of slash-separated paths, relative
// to the output directory, to file contents. loader resolves packages that pkg
// refers to (e.g. another provider's types); req carries the extra files and
// local-dependency settings a generator may honour.
type Generator func(
	pkg *schema.Package, loader schema.ReferenceLoader, req *pulumirpc.GeneratePackageRequest,
) (map[string][]byte, error)

// GeneratePackage implements the RPC of the same name with gen.
//
// Schema problems are returned as diagnostics, not as an error: the engine
// prints diagnostics with their location, which is more useful to whoever
// edits the schema than a flattened gRPC error string.
func GeneratePackage(
	ctx context.Context, req *pulumirpc.GeneratePackageRequest, gen Generator,
) (*pulumirpc.GeneratePackageResponse, error) {
	if req.GetDirectory() == "" {
		return nil, status.Error(codes.InvalidArgument, "GeneratePackage needs an output directory")
	}

	// The engine serves its plugin-backed schema loader on LoaderTarget. Going
	// through it (rather than reading schemas ourselves) means referenced
	// packages resolve exactly as the CLI would resolve them.
	if req.GetLoaderTarget() == "" {
		return nil, status.Error(codes.InvalidArgument, "GeneratePackage needs the engine's schema loader (loader_target)")
	}
	client, err := schema.NewLoaderClient(req.GetLoaderTarget())
	if err != nil {
		return nil, fmt.Errorf("connecting to the schema loader: %w", err)
	}
	defer client.Close()
	// Generators look up the same referenced packages many times.
	loader := schema.NewCachedLoader(client)

	var spec schema.PackageSpec
	if err := json.Unmarshal([]byte(req.GetSchema()), &spec); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "the schema is not valid JSON: %v", err)
	}

	// BindSpec (not ImportSpec) so the schema is validated against the
	// metaschema: gen-sdk is where a broken schema should be caught.
	pkg, diags, err := schema.BindSpecWithContext(ctx, spec, loader, schema.ValidationOptions{})
	if err != nil {
		return nil, fmt.Errorf("binding the schema: %w", err)
	}
	if diags.HasErrors() {
		return &pulumirpc.GeneratePackageResponse{Diagnostics: toRPC(diags)}, nil
	}

	files, err := gen(pkg, loader, req)
	if err != nil {
		return nil, fmt.Errorf("generating the SDK: %w", err)
	}
	if err := writeFiles(req.GetDirectory(), files); err != nil {
		return nil, err
	}
	// Warnings from binding are still worth showing.
	return &pulumirpc.GeneratePackageResponse{Diagnostics: toRPC(diags)}, nil
}

// MergeExtraFiles adds the request's extra files (gen-sdk --overlays) to files
// for generators that do not take them as a parameter. A generated file wins
// over an overlay of the same name, so an overlay cannot silently replace
// generated code; the conflict is reported instead.
func MergeExtraFiles(files map[string][]byte, extra map[string][]byte) error {
	for p, b := range extra {
		if _, dup := files[p]; dup {
			return fmt.Errorf("extra file %q would overwrite a generated file", p)
		}
		files[p] = b
	}
	return nil
}

// writeFiles writes generated files below dir. Paths come from the generator
// (and, for overlays, from the user), so each is checked to stay inside dir.
func writeFiles(dir string, files map[string][]byte) error {
	for name, contents := range files {
		rel := filepath.FromSlash(name)
		if !filepath.IsLocal(rel) {
			return fmt.Errorf("refusing to write %q outside %s", name, dir)
		}
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, contents, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func toRPC(diags hcl.Diagnostics) []*codegenrpc.Diagnostic {
	return plugin.HclDiagnosticsToRPCDiagnostics(diags)
}
