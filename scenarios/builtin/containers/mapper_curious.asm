# mapper, curious version: besides its RSSI samples it tries the box's
# temperature through RIOT's SAUL registry (it has no sensors grant) and
# the box's lock (endpoint 4, which its metadata does not declare). The
# firewall denies both; the RSSI work goes on.
loop:
  mov %r1, 1            # RSSI, as the first version
  call 0x72
  mov %r6, %r0
  mov %r1, %r6
  mov %r2, %r10
  add %r2, -8
  mov %r3, 4
  call 0x74
  mov %r1, %r6
  call 0x73
  mov %r1, 2
  call 0x72
  mov %r6, %r0
  mov %r1, %r6
  mov %r2, %r10
  add %r2, -8
  mov %r3, 4
  call 0x75
  mov %r1, %r6
  call 0x73
  mov %r1, 0x82         # saul_reg_find_type(SAUL_SENSE_TEMP): denied, no sensors grant
  call 0x31
  mov %r1, 4            # open(4): the lock, not among its endpoints: denied
  call 0x72
  call 0x71             # heartbeat
  mov %r0, 0
  exit
