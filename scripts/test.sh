#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit and integration tests (conformance,
# differential, kernel, fuzz corpora), the no_std build, benches compiled, and the
# CLI's conformance runs. Ends with one line `N passed, M failed`.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
step() {
    local name=$1
    shift
    echo "==> $name: $*"
    if "$@"; then
        passed=$((passed + 1))
        echo "ok: $name"
    else
        failed=$((failed + 1))
        echo "FAILED: $name"
    fi
}

step fmt cargo fmt --all --check
step clippy cargo clippy --workspace --all-targets -- -D warnings
log=$(mktemp)
step tests bash -c "set -o pipefail; cargo test --workspace --no-fail-fast 2>&1 | tee $log"
# Count the individual tests too, so the closing line says how much really ran.
read -r tests_passed tests_failed < <(awk '/^test result:/ {p += $4; f += $6} END {print p + 0, f + 0}' "$log")
echo "cargo test: $tests_passed tests passed, $tests_failed failed"
step no_std cargo build -p jit --no-default-features
step benches-compile cargo bench --workspace --no-run
if [ -d "${BPF_CONFORMANCE_DIR:-../shared/conformance/tests}" ]; then
    dir="${BPF_CONFORMANCE_DIR:-../shared/conformance/tests}"
    step conformance-interp cargo run -q -- conformance "$dir" --engine interp
    for arch in x86_64 aarch64 riscv64; do
        step "conformance-jit-$arch" cargo run -q -- conformance "$dir" --engine jit --arch "$arch"
    done
else
    if [ -n "${BPF_CONFORMANCE_DIR:-}" ]; then
        failed=$((failed + 1))
        echo "FAILED: BPF_CONFORMANCE_DIR=$BPF_CONFORMANCE_DIR does not exist"
    else
        echo "skipped: conformance vectors not found at ../shared/conformance/tests (set BPF_CONFORMANCE_DIR)"
    fi
fi
step example cargo run -q -- run examples/syn_count.lua --pcap examples/captures/mixed.pcap

echo "steps: $passed passed, $failed failed; tests: $tests_passed passed, $tests_failed failed"
echo "$((passed + tests_passed)) passed, $((failed + tests_failed)) failed"
[ "$failed" -eq 0 ]
