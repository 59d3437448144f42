#!/usr/bin/env bash
# Every test of octavia.lbaas, cheapest first. Run through `./run test` (the venv and the
# environment come from there). Extra arguments go to the final pytest run.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
T0=$SECONDS
step() { printf '\n\033[1m==> [%4ds] %s\033[0m\n' $((SECONDS - T0)) "$*"; }

# An installed copy of octavia.lbaas (molecule's prerun makes one) would shadow this
# checkout for ansible-lint and molecule: the checkout is the only copy we test.
rm -rf "$HOME/.ansible/collections/ansible_collections/octavia/lbaas"

# The test cloud comes up in the background while the static checks run (they need no
# cloud; the bring-up mostly waits on services starting in their containers): ~1.5 min
# of a CI run. On a machine where the test cloud already runs, this bring-up is itself a
# second one: its recap is kept so that test_testbed_idempotence.py can judge it instead
# of paying for a third (~90 s); a first bring-up (fresh machine, or containers left
# running by a restored snapshot, where exec fails) is judged by a run of the test's own.
mkdir -p .tmp
SECOND_BRING_UP=0
if podman container exists octavia-lbaas-cloud && podman exec octavia-lbaas-cloud true 2>/dev/null; then
  SECOND_BRING_UP=1
fi
step "test cloud: bring up, in the background (log: .tmp/testbed-up.log)"
./run testbed up > .tmp/testbed-up.log 2>&1 &
UP_PID=$!
# A failed check ends the run: the bring-up still finishes first, so that no half-done
# run of it is left behind for the next one to trip over.
trap '[[ -n ${UP_PID:-} ]] && { echo "waiting for the test cloud bring-up to end" >&2; wait "$UP_PID" || true; }' EXIT

step "ruff: lint the Python code (ruff.toml; lint only, the code is not reformatted)"
ruff check --no-cache --output-format concise .

step "ansible-lint"
ansible-lint --offline -q

step "ansible-test sanity (in a copy laid out as ansible_collections/octavia/lbaas)"
cp tests/sanity/ignore-2.19.txt .tmp/ignore-before.txt
bash tests/sanity/make_ignores.sh
if ! cmp -s tests/sanity/ignore-2.19.txt .tmp/ignore-before.txt; then
  echo "tests/sanity/ignore-2.19.txt was stale: run tests/sanity/make_ignores.sh and commit it" >&2; exit 1
fi
SANITY=.tmp/sanity/ansible_collections/octavia/lbaas
rm -rf .tmp/sanity && mkdir -p "$SANITY"
git ls-files -co --exclude-standard -z | rsync -a --from0 --files-from=- . "$SANITY/"
# ansible-test fetches a pip bootstrap script from a host we cannot reach: give it ours.
PIP_FOR_TEST=$(grep -o "pip='[0-9.]*'" "$ROOT"/.venv-sanity/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | head -n1 | cut -d"'" -f2)
mkdir -p ~/.ansible/test/cache
cp tests/sanity/bootstrap_pip.py "$HOME/.ansible/test/cache/get_pip_${PIP_FOR_TEST//./_}.py"
(cd "$SANITY" && git init -q && git add -A && \
  "$ROOT/.venv-sanity/bin/ansible-test" sanity --local --requirements --python 3.11 --color no \
    --exclude tests/testbed/ > "$ROOT/.tmp/sanity.log" 2>&1) || { grep -v '^WARNING: Location' .tmp/sanity.log | tail -n 60; exit 1; }
grep -E '^(ERROR|Running sanity test)' .tmp/sanity.log | sed 's/^Running sanity test/  ok:/' | tr '\n' ' '; echo

step "collection build and install"
rm -rf .tmp/build && mkdir -p .tmp/build
ansible-galaxy collection build --output-path .tmp/build . >/dev/null
# --force: the checkout itself is linked as octavia.lbaas 0.1.0, which galaxy would
# otherwise take for "already installed"
ansible-galaxy collection install --offline --no-deps --force -p .tmp/build/installed \
  .tmp/build/octavia-lbaas-*.tar.gz 2>&1 | grep -v "is not part of the configured" || true
INSTALLED=.tmp/build/installed/ansible_collections/octavia/lbaas
if ! { test -f "$INSTALLED/MANIFEST.json" && test -f "$INSTALLED/roles/controller/tasks/main.yml" \
        && test -f "$INSTALLED/plugins/modules/loadbalancer.py" && test ! -e "$INSTALLED/tests/testbed"; }; then
  echo "the built collection is incomplete" >&2; exit 1
fi
echo "  built and installed: $(ls .tmp/build/*.tar.gz)"

step "test cloud: wait for its bring-up"
if ! wait "$UP_PID"; then
  UP_PID=""; tail -n 60 .tmp/testbed-up.log; echo "the test cloud's bring-up failed (.tmp/testbed-up.log)" >&2; exit 1
fi
UP_PID=""
sed -n '/PLAY RECAP/,$p' .tmp/testbed-up.log
if [[ $SECOND_BRING_UP == 1 ]]; then
  export OCTAVIA_LBAAS_SECOND_BRING_UP_LOG=$ROOT/.tmp/testbed-up.log
else
  # A first bring-up: the second one, which test_testbed_idempotence.py judges (changed=0),
  # runs beside molecule (it changes nothing when the bring-up is idempotent, and the test
  # fails when it is not) instead of inside pytest on its own (~100 s).
  step "test cloud: its second bring-up, in the background (log: .tmp/testbed-up-2.log)"
  ./run testbed up > .tmp/testbed-up-2.log 2>&1 &
  UP_PID=$!
  export OCTAVIA_LBAAS_SECOND_BRING_UP_LOG=$ROOT/.tmp/testbed-up-2.log
fi

step "molecule: every scenario under extensions/molecule (against the test cloud)"
for scenario in extensions/molecule/*/molecule.yml; do
  name=$(basename "$(dirname "$scenario")")
  # Molecule keeps "prepared" in ~/.ansible/tmp across runs; containers that were purged
  # (or a machine restored from a snapshot) would then never be started again.
  molecule reset -s "$name" >/dev/null 2>&1
  molecule test -s "$name"
done

if [[ -n ${UP_PID:-} ]]; then
  step "test cloud: wait for its second bring-up (judged by test_testbed_idempotence.py)"
  wait "$UP_PID" || echo "the second bring-up failed: see .tmp/testbed-up-2.log" >&2
  UP_PID=""
fi

step "pytest: unit and integration tests"
# --durations and the JUnit file (every test's seconds): where CI's time goes.
# slow_vm: tests that boot one more amphora VM for a path CI already proves another way
# (bench/real_amphorae.sh runs them); a later -m in "$@" overrides this one.
python -m pytest -p no:cacheprovider -ra --durations=20 --junitxml=.tmp/pytest-junit.xml \
  -m "not slow_vm" tests/unit tests/integration "$@"
