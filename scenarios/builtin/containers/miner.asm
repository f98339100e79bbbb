# miner: an ad network's container that "optimises" its ads by crunching
# numbers every loop: 10,000 rounds of arithmetic, about 21 ms of CPU on the
# nRF52 each second. Under its loop limit, but it drains the battery: its
# energy budget stops it ("denial of sustainability").
loop:
  mov %r0, 0
  mov %r1, 10000
  mov %r2, 0x9e3779b9
  add %r0, %r2          # a hash-like round
  xor %r0, %r1
  sub %r1, 1
  jne %r1, 0, -4
  call 0x71             # heartbeat: it looks healthy
  mov %r0, 0
  exit
