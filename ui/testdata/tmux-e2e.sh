#!/usr/bin/env bash
# End-to-end test of the terminal UI in tmux: starts `tinylab` (the default
# scenario), presses keys as a presenter and a tester would, reads the screen
# with capture-pane and checks what it shows, at 120x35 and 80x24; MyCoach's
# step 7 showing STOPPING on its way to RUNNING, an armed attack kept through
# a refused update; then the high-contrast theme under NO_COLOR, and the
# refusal without a terminal.
#
#   ui/testdata/tmux-e2e.sh [path/to/tinylab]
#
# Without an argument it builds the binary. Exits non-zero at the first
# check that fails, printing the screen.
set -euo pipefail
cd "$(dirname "$0")/../.."

bin=${1:-}
if [ -z "$bin" ]; then
  bin=$(mktemp -d)/tinylab
  go build -o "$bin" .
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

sock="tinylab-e2e-h-rd-$$"
t() { tmux -L "$sock" "$@"; }
pids=() # background processes a case started
cleanup() {
  t kill-server 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

screen() { t capture-pane -p -t e2e; }
fail() {
  echo "FAIL: $*"
  echo "---- screen ----"
  screen || true
  exit 1
}
# wait_for PATTERN [SECONDS]: until the screen shows the extended regexp.
wait_for() {
  local pat=$1 limit=${2:-10} i=0
  while ! screen | grep -Eq -- "$pat"; do
    i=$((i + 1))
    [ "$i" -gt $((limit * 20)) ] && fail "waited ${limit}s for /$pat/"
    sleep 0.05
  done
  echo "ok: /$pat/"
}
# keys KEY...: sends keys; a lone Escape gets time to stand alone, or the
# terminal reads it with the next key as alt+key.
keys() {
  t send-keys -t e2e "$@"
  [ "${!#}" = Escape ] && sleep 0.4
  return 0
}
# check_width W: no line of the screen is wider than W cells.
check_width() {
  local w
  w=$(screen | LC_ALL=C.UTF-8 wc -L)
  [ "$w" -le "$1" ] || fail "a line is $w cells wide at width $1"
  echo "ok: lines fit in $1 columns"
}

echo "== tinylab alone opens the default scenario at 120x35"
start=$(date +%s%N)
t new-session -d -s e2e -x 120 -y 35 "$bin; echo EXIT=\$?; sleep 30"
wait_for 'tinylab .*step 0/' 5
echo "   first frame after $(( ($(date +%s%N) - start) / 1000000 )) ms (tmux included)"
wait_for 'bench-1' 10
wait_for 'press n to begin'
check_width 120

echo "== the presenter plays two steps"
keys n
wait_for 'step 1/[0-9]+'
wait_for '✓ held' 15
keys n
wait_for 'step 2/[0-9]+'
wait_for 'SUIT_OK' 20
wait_for 'coach +RUNNING' 20
wait_for '✓ .*signature'   # its own line, or folded with the checks before it on a short pane

echo "== help lists the keys"
keys '?'
wait_for 'presenter'
wait_for 'command history'
keys Escape
screen | grep -q 'presenter' && fail "esc did not close the help"

echo "== the command line stops and starts a container"
keys :
wait_for '^: '
keys 'stop bench-1 coach' Enter
wait_for 'coach +READY' 10
keys 'start bench-1 co' Tab
wait_for ': start bench-1 coach'
keys Enter
wait_for 'coach +RUNNING' 10
keys 'start bench-1 nothing' Enter
wait_for '✗ .*nothing' 10
keys Up Up
wait_for ': start bench-1 coach'
keys Escape

echo "== the event log filters"
keys / 'heartbeat' Enter
wait_for '/heartbeat [0-9]+'
keys Escape

echo "== resize to 80x24 and back"
t resize-window -t e2e -x 80 -y 24
wait_for 'scenario'
wait_for 'devices'
check_width 80
t resize-window -t e2e -x 120 -y 35
wait_for '\? help  : command  q quit'
check_width 120

echo "== zoom and focus"
keys z
wait_for '┏━ events'
keys Escape

echo "== q quits cleanly"
keys q
wait_for 'EXIT=0' 5
t kill-session -t e2e

echo "== MyCoach step 7: the update's states are seen one by one"
t new-session -d -s e2e -x 120 -y 35 "$bin ui mycoach --speed 20; echo EXIT=\$?; sleep 30"
wait_for 'press n to begin' 10
for i in 1 2 3 4 5 6; do
  keys n
  wait_for "│ $i/9 ✓ " 30
done
keys n
wait_for '\[STOPPING\]' 10
wait_for 'last: RUNNING → STOPPING' 2
wait_for '│ 7/9 ✓ ' 20
wait_for '\[RUNNING\]' 5
# version 2 of the coach is sequence 3: the analytics container took 2 (one number per device, as RIOT)
wait_for 'coach +RUNNING .* 3 +│' 5

echo "== an armed attack survives a refused update and is carried by the next (80x24)"
t resize-window -t e2e -x 80 -y 24
wait_for 'scenario' 5
keys :
wait_for '^: '
keys 'tamper next digest-mismatch' Enter
wait_for 'the next update will carry digest-mismatch' 10
keys 'update bench-1 coachh' Enter
wait_for 'stays armed for the next update' 10
keys Escape
wait_for 'armed: next update' 5
wait_for 'digest-mismatch' 5
keys :
wait_for '^: '
keys 'update bench-1 coach-v2' Enter
wait_for 'with digest-mismatch' 10
wait_for 'clock is paused' 5
keys Escape
keys Space
wait_for 'SUIT_ERR_DIGEST_MISMATCH' 20
screen | grep -q 'armed: next update' && fail "the attack still shows armed after an update carried it"
echo "ok: the armed attack is spent by the update that carried it"
check_width 80
keys q
wait_for 'EXIT=0' 5
t kill-session -t e2e

echo "== NO_COLOR and the contrast theme"
t new-session -d -s e2e -x 100 -y 30 "NO_COLOR=yes $bin ui hello --theme contrast; echo EXIT=\$?; sleep 30"
wait_for 'board-1' 10
keys n
wait_for '✓ held' 10
if t capture-pane -p -e -t e2e | grep -Eq $'\e\\[[0-9;]*(3[0-8]|4[0-8]|9[0-7]|10[0-7])[;m]'; then
  fail "colours on screen under NO_COLOR"
fi
echo "ok: no colour under NO_COLOR"
keys q
wait_for 'EXIT=0' 5
t kill-session -t e2e

echo "== an unknown scenario is an error, not a crash"
t new-session -d -s e2e -x 100 -y 30 "$bin ui no-such-scenario; echo EXIT=\$?; sleep 30"
wait_for 'no such scenario' 5
wait_for 'EXIT=1' 5
t kill-session -t e2e

echo "== without a terminal the UI refuses and says why"
if out=$("$bin" ui hello 2>&1 </dev/null | cat); then :; fi
echo "$out" | grep -q 'needs a terminal' || { echo "FAIL: no terminal: $out"; exit 1; }
echo "ok: refused without a terminal"

echo "== devices running elsewhere, found in an RD, beside the scenario's own"
if command -v coap-client-notls >/dev/null; then
  far=$(mktemp -d)
  stop_far() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
  # first_line FILE: the first line a background command printed (its URI)
  first_line() {
    local i=0
    until [ -s "$1" ]; do i=$((i + 1)); [ "$i" -gt 100 ] && { stop_far; fail "no URI in $1"; }; sleep 0.05; done
    head -1 "$1"
  }
  "$bin" gateway --listen 127.0.0.1:0 >"$far/gw.out" 2>&1 & pids+=($!)
  gw=$(first_line "$far/gw.out")
  # far-1 runs a container, made and installed as a workshop attendee would
  (
    cd "$far"
    printf 'loop:\n  call 0x71\n  mov %%r0, 0\n  exit\n' >beat.asm
    "$bin" suit keygen -o tenant >/dev/null
    "$bin" metadata keygen -o owner >/dev/null
    mkdir repo
    "$bin" vm asm beat.asm --rbf -o repo/beat.code >/dev/null
    "$bin" metadata create --uid beat --code repo/beat.code --grant heartbeat -k owner.pem -o repo/beat.meta >/dev/null
  )
  "$bin" repo --listen 127.0.0.1:0 "$far/repo" >"$far/repo.out" 2>&1 & pids+=($!)
  repo=$(first_line "$far/repo.out")
  (
    cd "$far"
    "$bin" suit create --seq 1 --board native --component "tc:beat:meta=repo/beat.meta@$repo/beat.meta" --component "tc:beat:code=repo/beat.code@$repo/beat.code" -o beat.suit >/dev/null
    "$bin" suit sign -k tenant.pem beat.suit -o repo/beat.suit >/dev/null
  )
  for i in 1 2 3; do
    "$bin" device --listen 127.0.0.1:0 --board native --id "far-$i" --ep "far-$i" --rd "$gw" --rd-lt 30 --insecure \
      --trust "$far/tenant.pem.pub" --owner "$far/owner.pem.pub" >"$far/far-$i.out" 2>&1 & pids+=($!)
  done
  far1=$(first_line "$far/far-1.out")
  first_line "$far/far-3.out" >/dev/null
  coap-client-notls -m post -B 5 -e "$repo/beat.suit" "$far1/suit/trigger" >/dev/null
  t new-session -d -s e2e -x 120 -y 35 "$bin ui hello --rd $gw; echo EXIT=\$?; sleep 30"
  wait_for 'board-1' 10
  wait_for 'far-1 +⇄ live beat RUN' 15
  wait_for 'far-2 +⇄ live' 10
  wait_for 'far-3 +⇄ live' 10
  echo "   a test stops far-1's container over CoAP"
  coap-client-notls -m post -B 5 -e stop "$far1/containers/beat" >/dev/null
  wait_for 'far-1 +⇄ live beat RDY' 10
  echo "   the UI's command line starts it again"
  keys : 'start far-1 beat' Enter
  wait_for 'far-1 +⇄ live beat RUN' 10
  keys Escape
  echo "   far-3 dies"
  kill "${pids[-1]}"
  wait_for 'far-3 +⇄ lost unreachable since' 15
  keys q
  wait_for 'EXIT=0' 5
  t kill-session -t e2e
  stop_far
  wait 2>/dev/null || true
else
  echo "skip: coap-client-notls is not installed (Debian package libcoap3-bin)"
fi

echo "PASS: tmux end-to-end"
