# Source this (`source .ci/env.sh`) to get the project's pinned Node 24 and pnpm on PATH (installed on
# first use), the workspace's dependencies installed, and the integration-test settings CI uses on
# machines that reach no image registry (when a Docker engine is running).
_ci_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=toolchain.sh
source "$_ci_dir/toolchain.sh"
export TESTCONTAINERS_RYUK_DISABLED=true
export TESTCONTAINERS_HOST_OVERRIDE=localhost
if [ -z "${PG_TEST_IMAGE:-}" ] && command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  PG_TEST_IMAGE="$(bash "$_ci_dir/postgres-image.sh")"
  export PG_TEST_IMAGE
fi
if [ ! -d "$_ci_dir/../node_modules" ]; then
  (cd "$_ci_dir/.." && pnpm install --frozen-lockfile --reporter=silent)
fi
unset _ci_dir
