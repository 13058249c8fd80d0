# SAM's makefile builder (template.yaml: Metadata.BuildMethod: makefile) runs `make build-<FunctionId>`
# with ARTIFACTS_DIR set; SAM's own esbuild builder cannot be used because it runs `npm install`, which
# does not understand pnpm's `workspace:` dependencies.
# Every function of the template ships the same artifact (one esbuild run with an entry per function:
# index.mjs, migrate.mjs and their shared chunks); each function's Handler names its entry.
# Needs Node 24 and pnpm (`source .ci/env.sh` installs both). Use `sam build --build-in-source` (set in
# samconfig.toml) so the workspace's node_modules are used in place.

# `sam build --cached` never skips a makefile build (aws-sam-cli #2989), so the target keeps its own cache
# (.aws-sam/makefile-cache, one bundle per content hash of its inputs): unchanged sources are a copy, not
# an esbuild run, for every function of every `sam build` (and the devrunner, which runs these targets).

# Every function of the template is the same bundle (one entry point per handler).
build-EntityFunction build-OutboxRelayFunction build-MigrationFunction:
	@test -d node_modules || pnpm install --frozen-lockfile
	node packages/lambda/scripts/cached-build.ts --outdir "$(ARTIFACTS_DIR)" $(BUILD_FLAGS)

# Not for SAM: a running `devrunner up` rebuilds the same artifact through this on every save (one
# incremental esbuild context, answering build requests on stdin; see packages/lambda/scripts/build-server.ts).
serve-build-EntityFunction serve-build-OutboxRelayFunction serve-build-MigrationFunction:
	@exec node packages/lambda/scripts/build-server.ts --outdir "$(ARTIFACTS_DIR)"

.PHONY: build-EntityFunction build-OutboxRelayFunction build-MigrationFunction
.PHONY: serve-build-EntityFunction serve-build-OutboxRelayFunction serve-build-MigrationFunction
