#!/bin/sh
# Builds the WebAssembly test containers with Debian's clang-19 and lld-19,
# with upstream TinyContainer's flags; the name section stays so that traps
# name their function.
set -e
cd "$(dirname "$0")"
for src in *.c; do
	clang-19 --target=wasm32-unknown-unknown -O2 -nostdlib -fno-builtin -Wall -Werror \
		-Wl,--no-entry -Wl,--export=__heap_base -Wl,--export=__data_end \
		-Wl,-z,stack-size=128 -Wl,--global-base=16 -Wl,--initial-memory=65536 -o "${OUT:-.}/${src%.c}.wasm" "$src"
done
