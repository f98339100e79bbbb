# app: a vendor's small application for the update-attack tour. It logs its
# version (its data) when it starts and heartbeats every loop.
start:
  call 0x01             # printf(data): "app v1 ..."
  mov %r0, 0
  exit
loop:
  call 0x71
  mov %r0, 0
  exit
