// GeneratePackage: `pulumi package gen-sdk --language nodejs` asks the language
// host, not the CLI, to write the SDK.
package main

import (
	"context"

	nodegen "github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"dpl.local/tools/pulumi/internal/codegenhost"
)

// GeneratePackage writes a TypeScript SDK with upstream's generator. Overlays
// (extra files) and local dependencies are passed through; the generator
// places overlays at the SDK root.
func (h *nodeHost) GeneratePackage(
	ctx context.Context, req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	return codegenhost.GeneratePackage(ctx, req, func(
		pkg *schema.Package, loader schema.ReferenceLoader, req *pulumirpc.GeneratePackageRequest,
	) (map[string][]byte, error) {
		return nodegen.GeneratePackage("pulumi-language-nodejs", pkg,
			req.GetExtraFiles(), req.GetLocalDependencies(), req.GetLocal(), loader)
	})
}
