# fw_nogrant: calls heartbeat, which its metadata does not grant.
loop:
  call 0x71
  mov %r0, 0
  exit
