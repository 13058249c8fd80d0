# Source this (`source .ci/env.sh`) to get the project's pinned Node 24 and pnpm on PATH and the
# integration-test settings CI uses on machines that reach no image registry. Needs .ci/run to have
# run once (or runs the installs itself).
_ci_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=toolchain.sh
source "$_ci_dir/toolchain.sh"
export TESTCONTAINERS_RYUK_DISABLED=true
export TESTCONTAINERS_HOST_OVERRIDE=localhost
if [ -z "${PG_TEST_IMAGE:-}" ] && command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  PG_TEST_IMAGE="$(bash "$_ci_dir/postgres-image.sh")"
  export PG_TEST_IMAGE
fi
unset _ci_dir
