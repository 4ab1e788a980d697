/*
 * The invoice-number allocation protocol, as built, for the SPIN model checker.
 * docs/model/README.md maps every step to the Python function that implements it, and says
 * under which bounds what is proven, and what is not. scripts/model-check runs it.
 *
 *   Worker(r)   HQ replica r serving RequestRange and ReportUsage, one write at a time (as its
 *               WriteBatcher does): coordinator.token(), then a pause of any length, then one
 *               fenced database transaction;
 *   Elector(r)  HQ replica r's etcd election: the leader key's create revision is the fencing
 *               token and Store.take_office stores it; a lease may expire at any moment, also
 *               while its replica is paused between token() and its transaction;
 *   Agent(a)    branch agent a: its durable ledger, its memory (lost in a crash), the refill
 *               call and the usage-report call with failover over both HQ addresses, and the
 *               store's POS terminal folded in (NextNumbers with a request id, retried with the
 *               same id when the agent died under it; GiveBack); FinalizeEnded;
 *   Env         the period end (one clock for all), and the faults, each within its budget and
 *               MAXFAULTS in all: agent crashes (between any two steps), lease expiries, a
 *               replica killed for good, a usage report delivered again later; RPC deadlines
 *               (a paused replica) are the agent's own steps;
 *   Auditor     once nothing can move any more: the books must balance.
 *
 * Flags: mutations -DMUT_NO_FENCE -DMUT_FOLLOWER_WRITES -DMUT_SEND_BEFORE_STORE
 *        -DMUT_STALE_CURSOR -DMUT_NO_TOKEN_CHECK -DMUT_RETRY_ON_START_ONLY (finding F1, fixed:
 *        the refill before the fix); -DEND_WEAK (the end check before the fix); liveness
 *        -DLIVE -DNOEND (pan -a -f); -DREACH=k
 *        (scenario k is reached).
 *
 * Numbers are small integers: booklet b holds numbers b*BS .. b*BS+BS-1 (50 in reality). One
 * period, one invoice type, one track, one booklet per request. Lines starting "STEP" are
 * printed when a counter-example is replayed (spin -t); the verifier does not print them.
 */

/* ---------------------------------------------------------------- bounds (override with -D) */
#ifndef NA
#define NA 1            /* branch agents, each with one POS terminal */
#endif
#ifndef NB
#define NB 3            /* booklets in the HQ pool (3 or 4) */
#endif
#ifndef BS
#define BS 2            /* numbers per booklet */
#endif
#ifndef KCALLS
#define KCALLS 2        /* NextNumbers calls per POS terminal */
#endif
#ifndef GIVEBACKS
#define GIVEBACKS 1     /* GiveBack calls per POS terminal */
#endif
#ifndef MAXREQ
#define MAXREQ 3        /* range request ids per agent (a refused one is replaced by a new one) */
#endif
#ifndef KCALLS1
#define KCALLS1 KCALLS  /* the same, for the second agent's POS */
#endif
#ifndef GIVEBACKS1
#define GIVEBACKS1 GIVEBACKS
#endif
#ifndef MAXREQ1
#define MAXREQ1 MAXREQ
#endif
#define CALLS(a) ((a) == 0 -> KCALLS : KCALLS1)
#define GBS(a) ((a) == 0 -> GIVEBACKS : GIVEBACKS1)
#define REQS(a) ((a) == 0 -> MAXREQ : MAXREQ1)
#ifndef MAXMID
#define MAXMID 1        /* usage reports of grants still open, per agent (then final ones only) */
#endif
#ifndef MAXCRASH
#define MAXCRASH 1      /* agent crashes, all agents together */
#endif
#ifndef MAXEXP
#define MAXEXP 1        /* etcd lease expiries */
#endif
#ifndef MAXTO
#define MAXTO 1         /* RPC deadlines that expire (the replica is paused) */
#endif
#ifndef MAXDUP
#define MAXDUP 1        /* usage reports the network delivers a second time, later */
#endif
#ifndef MAXKILL
#define MAXKILL 1       /* HQ replicas killed for good (never both) */
#endif
#ifndef MAXFAULTS
#define MAXFAULTS 9     /* faults of any kinds together */
#endif
#define NR 2            /* HQ replicas */
#define NN (NB*BS)      /* numbers in the pool */
#define LOW BS          /* RefillPolicy.low_water_count: refill below it */
/* a replica inbox: what can pile up at a paused replica (asserted never to overflow) */
#define QCAP (2*NA*(1+MAXTO+MAXCRASH)+MAXDUP)

/* ---------------------------------------------------------------- names of the properties */
/* every assertion names its property, so a counter-example says which one failed */
hidden byte no_number_handed_to_two_pos_calls = 1;
hidden byte replay_returns_the_callers_own_number = 1;
hidden byte numbers_ascending_per_branch = 1;
hidden byte a_blank_number_is_never_issued = 1;
hidden byte no_overlapping_grants = 1;
hidden byte grants_ascending_per_branch = 1;
hidden byte retried_request_never_allocates_twice = 1;
hidden byte usage_reports_keep_the_furthest_state = 1;
hidden byte hq_accepts_every_report_of_a_correct_agent = 1;
hidden byte no_call_left_hanging = 1;
hidden byte every_request_resolved = 1;
hidden byte no_orphan_grant = 1;
hidden byte no_grant_lost = 1;
hidden byte every_grant_closed_and_reported = 1;
hidden byte accounting_issued_blank_held_exact = 1;
hidden byte inbox_never_overflows = 1;

/* ---------------------------------------------------------------- witnesses */
/* -DREACH=k turns scenario k into an assertion that fails when it is reached: the tests show
 * that each scenario the properties speak of really happens in the model (no vacuity). */
#ifdef REACH
hidden byte scenario_is_reachable = 1;
#define WITNESS(k) if :: (k) == REACH -> assert(!(scenario_is_reachable && (k) == REACH)) \
                      :: else -> skip fi
#else
#define WITNESS(k) skip
#endif
#define W_FENCED 1          /* check_fence refuses a deposed leader's transaction */
#define W_ORIGINAL 2        /* a retried request id gets its original grant back */
#define W_REUSED 3          /* a number given back is re-used */
#define W_SKIPPED 4         /* a number given back is skipped */
#define W_REPLAY 5          /* a POS retry gets the same number again */
#define W_OLD_REPORT 6      /* HQ receives a usage report older than what it has */
#define W_CLOSED 7          /* HQ refuses a request: the period is closed */
#define W_POOL_EMPTY 8      /* HQ refuses a request: the pool is empty */
#define W_UNREACHABLE 9     /* no HQ address answered; the agent keeps its request id */
#define W_RESUME 10         /* after a restart the agent asks again with the stored id */
#define W_TWO_LEADERS 11    /* two replicas believe they lead at the same moment */
#define W_CLOSE_SKIPS 12    /* FinalizeEnded reports re-usable numbers as skipped */
#define W_NEW_SKIPS_ONLY 13 /* a report leaves out the skips HQ acknowledged before */

/* ---------------------------------------------------------------- constants */
#define K_RANGE 0       /* RequestRange */
#define K_REPORT 1      /* ReportUsage */
#define R_NONE 0        /* no reply yet */
#define R_GRANT 1       /* a grant: a new one, or the original one of a known request id */
#define R_REFUSED 2     /* a domain error: HQ granted nothing under this id */
#define R_UNAVAIL 3     /* UNAVAILABLE: NotLeader, fenced, connection refused or reset */
#define R_ACK 4         /* UsageAck */
#define CS_IDLE 0       /* agent call states */
#define CS_READY 1      /* request id stored, about to send */
#define CS_WAIT 2       /* sent, awaiting the reply */
#define CS_UNSTORED 3   /* MUT_SEND_BEFORE_STORE only: sent, request id not stored yet */
#define PS_IDLE 0       /* the POS call */
#define PS_TAKEN 1      /* committed in the ledger, the reply not sent yet */
#define PS_LOST 2       /* the agent died under it: the POS retries the same call */
#define P_NEXT 1
#define P_GIVE 2
#define EMPTY 255       /* NextNumbers found no number (BufferEmpty) */
#define NOTAG 255       /* a copy the network delivers again: nobody awaits its reply */

/* ---------------------------------------------------------------- etcd and the replicas */
byte etcd_leader;               /* replica+1 whose leader key exists (0: none) */
byte rev;                       /* etcd's revision: create revisions only grow */
byte myrev[NR];                 /* the create revision of the replica's key: its token */
bool leading[NR];               /* coordinator.token() answers (the replica's belief) */
bool dead[NR];
#ifdef MUT_STALE_CURSOR
byte cache[NR];                 /* the pool cursor the replica last knew */
#endif

/* ---------------------------------------------------------------- the HQ database */
byte db_token;                  /* leadership.fencing_token */
byte pool_next;                 /* assignments.granted_high + 1, as a booklet index */
byte g_owner[NB];               /* grants: agent+1 holding booklet b (0: not granted) */
byte g_rid[NB];                 /* grants.request_id */
byte g_next[NB];                /* grants.next_number, as an offset in the booklet */
byte g_skip[NB];                /* skipped: bit o is number b*BS+o */
bool g_final[NB];               /* grants.final */

chan hq[NR] = [QCAP] of { byte, byte, byte, byte, byte, byte, bool };
/*                 kind, agent, call tag, request id | booklet, next, skipped, final */

/* ---------------------------------------------------------------- calls, index a*2+kind */
byte wait_r[NA*2];              /* replica+1 the agent's call awaits (0: none) */
byte ab[NA*2];                  /* calls abandoned so far: the current call's tag */
byte rep_st[NA*2];              /* the reply, once delivered */
byte rep_b[NA*2];

/* ---------------------------------------------------------------- agent ledgers (durable) */
byte pend[NA];                  /* pending_requests: the request id (0: none) */
byte ridc[NA];                  /* request ids made so far (uuid4 in the code) */
byte held[NA];                  /* grants held: bit b */
byte cur[NA*NB];                /* grants.next_number, offset */
byte hw[NA*NB];                 /* grants.high_water, offset */
byte skp[NA*NB];                /* skipped: bit o */
bool fin[NA*NB];                /* grants.final */
bool dirty[NA*NB];              /* grants.version > grants.reported_version */
byte prq[NA*KCALLS];            /* pos_requests: POS request id -> number+1 */
byte holder[NN];                /* issued: agent+1 whose POS holds the number (0: not out) */
byte nout[NA];                  /* how many numbers of the agent are out (a count of holder) */

/* ---------------------------------------------------------------- agent memory (lost on crash) */
byte rst[NA];                   /* the refill call */
byte rtry[NA];                  /* addresses tried in this call (HqClient._call) */
byte rtgt[NA];                  /* the address tried now */
byte vrid[NA];                  /* MUT_SEND_BEFORE_STORE only: the id not stored yet */
bool resume[NA];                /* a start retries the stored request (the first tick) */
byte pst[NA];                   /* the usage-report call */
byte ptry[NA];
byte ptgt[NA];
bool pchg[NA];                  /* the grant reported changed after the report was read */
byte cur_addr[NA];              /* HqClient._current: the address that answered last */
byte lr_b[NA];                  /* the report being sent (the network may keep a copy) */
byte lr_nx[NA];
byte lr_sk[NA];                 /* its skips: those not acknowledged in this run */
byte lr_all[NA];                /* the whole skip set read for it (acknowledged with it) */
bool lr_fin[NA];
bool lr_valid[NA];
byte ack_sk[NA*NB];             /* Reporter._acknowledged: the skips HQ acknowledged, by grant */
byte ares[NA];                  /* the POS reply, committed but not sent */

/* ---------------------------------------------------------------- the POS terminal's memory */
byte ps[NA];                    /* the call in progress, seen from the agent */
byte pkind[NA];                 /* NextNumbers or GiveBack */
byte parg[NA];                  /* its request id, or the number given back */
byte pcall[NA];                 /* NextNumbers calls done */
byte pgb[NA];                   /* GiveBack calls done */

/* ---------------------------------------------------------------- the period, the faults */
bool ended;                     /* the period is over (by every clock) */
byte ncrash, nexp, nto, ndup, nkill;
byte nfault;                    /* faults of any kind so far (bound MAXFAULTS) */
#define LEFT(n, max) ((n) < (max) && nfault < MAXFAULTS)
#define CAN_CRASH LEFT(ncrash, MAXCRASH)
#define CAN_EXP LEFT(nexp, MAXEXP)
#define CAN_TO LEFT(nto, MAXTO)
#define CAN_DUP LEFT(ndup, MAXDUP)
#define CAN_KILL LEFT(nkill, MAXKILL)
byte nmid[NA];                  /* reports of open grants sent (bound MAXMID) */

/* ---------------------------------------------------------------- derived (expressions) */
#define J(a,b) ((a)*NB+(b))
#define HELD(a,b) (((held[a]>>(b))&1) == 1)
#define OPEN(a,b) (HELD(a,b) && !fin[J(a,b)])
#define REM(a,b) (OPEN(a,b) -> (BS - cur[J(a,b)]) : 0)
#define DIRTY(a,b) (HELD(a,b) && dirty[J(a,b)])
/* what the reporter sends: a changed grant; of the open ones at most MAXMID reports (a bound) */
#define REPORTABLE(a,b) (DIRTY(a,b) && (fin[J(a,b)] || nmid[a] < MAXMID))
#if NB == 3
#define REMAINING(a) (REM(a,0) + REM(a,1) + REM(a,2))
#define ANY_REPORTABLE(a) (REPORTABLE(a,0) || REPORTABLE(a,1) || REPORTABLE(a,2))
#define ANY_OPEN(a) (OPEN(a,0) || OPEN(a,1) || OPEN(a,2))
#define ANY_ACK(a) ((ack_sk[J(a,0)] | ack_sk[J(a,1)] | ack_sk[J(a,2)]) != 0)
#define FORGET_ACKS(a) ack_sk[J(a,0)] = 0; ack_sk[J(a,1)] = 0; ack_sk[J(a,2)] = 0
#elif NB == 4
#define REMAINING(a) (REM(a,0) + REM(a,1) + REM(a,2) + REM(a,3))
#define ANY_REPORTABLE(a) (REPORTABLE(a,0) || REPORTABLE(a,1) || REPORTABLE(a,2) || \
                           REPORTABLE(a,3))
#define ANY_OPEN(a) (OPEN(a,0) || OPEN(a,1) || OPEN(a,2) || OPEN(a,3))
#define ANY_ACK(a) ((ack_sk[J(a,0)] | ack_sk[J(a,1)] | ack_sk[J(a,2)] | ack_sk[J(a,3)]) != 0)
#define FORGET_ACKS(a) ack_sk[J(a,0)] = 0; ack_sk[J(a,1)] = 0; ack_sk[J(a,2)] = 0; \
                       ack_sk[J(a,3)] = 0
#else
#error "NB must be 3 or 4"
#endif
/* Refiller: every tick asks again for each stored request until HQ answers it, whatever its
 * period (_retry_stored), and asks for the current period when RefillPolicy.needs_refill (fewer
 * than LOW numbers left). Before finding F1 was fixed, a stored request was retried only once
 * after a start (_resume): MUT_RETRY_ON_START_ONLY, see the README. */
#ifdef MUT_RETRY_ON_START_ONLY
#define RETRY_STORED(a) (resume[a] && pend[a] != 0)
#else
#define RETRY_STORED(a) (pend[a] != 0)          /* retried until answered */
#endif
#define REFILL_WANTED(a) (RETRY_STORED(a) || \
                          (!ended && REMAINING(a) < LOW && (pend[a] != 0 || ridc[a] < REQS(a))))
/* a crash changes something: the agent's memory is not blank, or a start would resume */
#define CRASH_MATTERS(a) (rst[a] != CS_IDLE || pst[a] != CS_IDLE || ps[a] == PS_TAKEN || \
                          cur_addr[a] != 0 || pend[a] != 0 || ANY_ACK(a))

/* No fault is left and replica r surely leads: no election can happen any more, so nothing
 * can change what r's fenced transaction does between token() and the commit. */
#define QUIET(r) (!CAN_EXP && !CAN_KILL && !CAN_TO && !CAN_CRASH && \
                  etcd_leader == r+1 && db_token == myrev[r])

/* ================================================================ HQ replica: requests */

/* the reply reaches the agent only if that very call still awaits it (gRPC drops it else) */
inline deliver(code, bval) {
  i = a*2 + kind;
  if
  :: wait_r[i] == r+1 && ab[i] == tag && rep_st[i] == R_NONE ->
     rep_st[i] = code; rep_b[i] = bval
  :: else -> skip
  fi
}

inline find_rid() {            /* grant_batch.rows_by(grants.request_id): found, or NB */
  found = NB;
  for (i : 0 .. NB-1) {
    if
    :: g_rid[i] == x -> found = i
    :: else -> skip
    fi
  }
}

inline grant_insert() {        /* grant_batch.decide + write, booklet b */
  assert(no_overlapping_grants && g_owner[b] == 0);
  find_rid();
  assert(retried_request_never_allocates_twice && found == NB);
  printf("STEP hq%d: commits booklet %d to agent %d for request %d (token %d)\n",
         r, b, a, x, tok);
  g_owner[b] = a+1; g_rid[b] = x; g_next[b] = 0; g_skip[b] = 0; g_final[b] = 0;
  if                           /* granted_high = greatest(granted_high, high) */
  :: pool_next < b+1 -> pool_next = b+1
  :: else -> skip
  fi;
#ifdef MUT_STALE_CURSOR
  cache[r] = pool_next;        /* the replica remembers the cursor it wrote */
#endif
  deliver(R_GRANT, b)
}

/* grant_batch.request_ranges, from what was read: found (request id), rn (cursor) */
inline grant_decide() {
  if
  :: found < NB && g_owner[found] == a+1 ->                           /* original() */
     printf("STEP hq%d: request %d is known: the original booklet %d\n", r, x, found);
     WITNESS(W_ORIGINAL);
     deliver(R_GRANT, found)
  :: found < NB && g_owner[found] != a+1 -> deliver(R_REFUSED, 0)     /* PermissionDenied */
  :: found == NB && snap ->                                           /* PeriodClosed */
     printf("STEP hq%d: request %d refused, the period is closed\n", r, x);
     WITNESS(W_CLOSED);
     deliver(R_REFUSED, 0)
  :: found == NB && !snap && rn >= NB ->                              /* pool exhausted */
     printf("STEP hq%d: request %d refused, the pool is empty\n", r, x);
     WITNESS(W_POOL_EMPTY);
     deliver(R_REFUSED, 0)
  :: found == NB && !snap && rn < NB -> b = rn; grant_insert()
  fi
}

/* branch_ops.decide_report (allocator.merge_report), from what was read: rn (next), rf (final) */
inline report_apply() {
  if
  :: g_owner[b] != a+1 -> deliver(R_REFUSED, 0)                       /* PermissionDenied */
  :: else ->
     if
     :: nx < rn || (rf && !mfin) -> WITNESS(W_OLD_REPORT)
     :: else -> skip
     fi;
     if
     :: rn < nx -> rn = nx
     :: else -> skip
     fi;
     assert(hq_accepts_every_report_of_a_correct_agent && nx <= BS &&
            (sk & ~((1 << rn) - 1)) == 0);
     assert(usage_reports_keep_the_furthest_state && rn >= g_next[b] &&
            (rf || mfin || !g_final[b]));
     g_next[b] = rn;
     g_skip[b] = g_skip[b] | sk;                  /* only new spans are inserted: a union */
     g_final[b] = rf || mfin;
     printf("STEP hq%d: usage of booklet %d: next %d, skipped %d, final %d\n",
            r, b, g_next[b], g_skip[b], g_final[b]);
     deliver(R_ACK, 0)
  fi
}

#define CLEAN_W kind = 0; a = 0; tag = 0; x = 0; nx = 0; sk = 0; i = 0; b = 0; tok = 0; \
                rn = 0; found = 0; mode = 0; mfin = 0; snap = 0; rf = 0

/* One fenced transaction (Store.write_batch_sync: check_fence locks the fence row and compares
 * the token, the use case runs, commit). The row lock serialises every fenced writer and
 * take_office, so the whole transaction is one step. */
#ifdef MUT_NO_TOKEN_CHECK
#define FENCED(tok) false                          /* the row is locked, the token not compared */
#else
#define FENCED(tok) (db_token != tok)
#endif

inline fenced_body() {
    if
    :: dead[r] -> deliver(R_UNAVAIL, 0)           /* killed: the connection resets */
    :: !dead[r] && FENCED(tok) ->                  /* check_fence: NotLeader */
       WITNESS(W_FENCED);
       printf("STEP hq%d: fenced, its token %d is not the stored %d\n", r, tok, db_token);
       deliver(R_UNAVAIL, 0)
    :: !dead[r] && !FENCED(tok) ->
       if
       :: kind == K_RANGE -> find_rid(); rn = pool_next; grant_decide()
       :: kind == K_REPORT -> b = x; rn = g_next[b]; rf = g_final[b]; report_apply()
       fi
    fi;
    CLEAN_W
}

inline fenced_tx() {
  d_step { fenced_body() }
}

/* The same transaction without check_fence (PostgreSQL, READ COMMITTED): nothing is locked, so
 * another transaction may commit between its reads and its writes. Only the mutations use it. */
inline unfenced_tx() {
  d_step {                                         /* the reads */
    if
    :: kind == K_RANGE -> find_rid(); rn = pool_next;
       printf("STEP hq%d: reads, unfenced: next free booklet %d\n", r, rn)
    :: kind == K_REPORT -> b = x; rn = g_next[b]; rf = g_final[b];
       printf("STEP hq%d: reads, unfenced: booklet %d next %d\n", r, b, rn)
    fi
  };
  d_step {                                         /* the writes, and commit */
    if
    :: dead[r] -> deliver(R_UNAVAIL, 0)
    :: !dead[r] && kind == K_RANGE -> grant_decide()
    :: !dead[r] && kind == K_REPORT -> report_apply()
    fi;
    CLEAN_W
  }
}

proctype Worker(byte r) {
  byte kind, a, tag, x, nx, sk, i, b, tok, rn, found, mode;
  bool mfin, snap, rf;
end_w:
  do
  :: atomic {
       hq[r] ? kind, a, tag, x, nx, sk, mfin ->
       snap = ended;                               /* Hq.write: now = clock.now() */
       if
       :: dead[r] -> deliver(R_UNAVAIL, 0); CLEAN_W            /* connection refused */
       :: !dead[r] && leading[r] -> tok = myrev[r]; mode = 1;  /* coordinator.token() */
#if !defined(MUT_NO_FENCE) && !defined(MUT_STALE_CURSOR) && !defined(MUT_FOLLOWER_WRITES) && \
    !defined(MUT_NO_TOKEN_CHECK)
          if                        /* nothing can come between token() and the transaction */
          :: QUIET(r) -> fenced_body()   /* any more: no step between them (a reduction) */
          :: else -> skip
          fi
#endif
       :: !dead[r] && !leading[r] ->
#ifdef MUT_FOLLOWER_WRITES
          mode = 2                                 /* the follower writes, unfenced */
#else
          deliver(R_UNAVAIL, 0); CLEAN_W           /* NotLeader: UNAVAILABLE */
#endif
       fi
     }
     /* here the replica may pause for any time: its lease may expire, another may lead */
     if
     :: mode == 0 -> skip
#ifdef MUT_NO_FENCE
     :: mode == 1 -> unfenced_tx()
#else
     :: mode == 1 -> fenced_tx()
#endif
     :: mode == 2 -> unfenced_tx()
     fi
  od
}

/* ================================================================ HQ replica: election */

proctype Elector(byte r) {
end_e:
  do
  :: d_step {
       /* _put_candidate + _wait_turn: no older key is left and this replica's key exists;
          its create revision is the token. Store.take_office stores it (locking the fence
          row: no fenced transaction is half done), refused if not newer than the stored one;
          _take_office checks lease.alive(). One step: until token() answers, nothing this
          replica does depends on it. */
       !dead[r] && etcd_leader == 0 && !leading[r] ->
       rev++; etcd_leader = r+1; myrev[r] = rev;
       if
       :: myrev[r] > db_token -> db_token = myrev[r]; leading[r] = 1;
          printf("STEP hq%d: leads, fencing token %d stored\n", r, rev);
          if
          :: leading[1-r] -> WITNESS(W_TWO_LEADERS)
          :: else -> skip
          fi
       :: else -> etcd_leader = 0                  /* refused: _term revokes the lease */
       fi;
#ifdef MUT_STALE_CURSOR
       cache[r] = pool_next;                       /* the cursor as it took office */
#endif
       skip
     }
  :: d_step {                                      /* the key is gone (the lease expired) or
                                                      the lease is no longer trusted: token()
                                                      raises NotLeader from now on */
       leading[r] && (etcd_leader != r+1 || dead[r]) -> leading[r] = 0; myrev[r] = 0;
       printf("STEP hq%d: knows it lost office\n", r) }
#ifdef MUT_STALE_CURSOR
  :: d_step {                                      /* the PD-style save: a replica that
                                                      believes it leads writes back the cursor
                                                      it knows, unfenced, as an absolute value */
       leading[r] && !dead[r] && pool_next != cache[r] -> pool_next = cache[r];
       printf("STEP hq%d: writes its cursor back: next booklet %d\n", r, pool_next) }
#endif
  od
}

/* ================================================================ branch agent */

inline send_call(k, tgt, xx, nxv, skv, finv) {
  i = a*2 + k;
  assert(inbox_never_overflows && nfull(hq[tgt]));
  hq[tgt] ! k, a, ab[i], xx, nxv, skv, finv;
  wait_r[i] = tgt+1; rep_st[i] = R_NONE; i = 0
}

inline end_call(k) {
  i = a*2 + k; wait_r[i] = 0; rep_st[i] = R_NONE; rep_b[i] = 0; i = 0
}

inline send_range() {          /* HqClient.request_range to the address rtgt */
  printf("STEP agent%d: sends request %d to hq%d\n", a, pend[a] + vrid[a], rtgt[a]);
  if
  :: pend[a] != 0 -> send_call(K_RANGE, rtgt[a], pend[a], 0, 0, 0); rst[a] = CS_WAIT
  :: else -> send_call(K_RANGE, rtgt[a], vrid[a], 0, 0, 0); rst[a] = CS_UNSTORED
  fi
}

inline send_report() {
  printf("STEP agent%d: reports booklet %d (next %d, skipped %d, final %d) to hq%d\n",
         a, lr_b[a], lr_nx[a], lr_sk[a], lr_fin[a], ptgt[a]);
  send_call(K_REPORT, ptgt[a], lr_b[a], lr_nx[a], lr_sk[a], lr_fin[a]); pst[a] = CS_WAIT
}

/* the refill call is over: answered, refused, or HqUnreachable */
inline refill_over() {
  rst[a] = CS_IDLE; rtry[a] = 0; rtgt[a] = 0; resume[a] = 0
}

/* the report call is over: forget its content, unless the network may still deliver a copy */
inline report_over() {
  pst[a] = CS_IDLE; pchg[a] = 0; ptry[a] = 0; ptgt[a] = 0; lr_all[a] = 0;
  if
  :: !CAN_DUP -> lr_b[a] = 0; lr_nx[a] = 0; lr_sk[a] = 0; lr_fin[a] = 0; lr_valid[a] = 0
  :: else -> skip
  fi
}

/* a grant's row changed (its version grew): it must be reported (again) */
inline touch(j, b) {
  dirty[j] = 1;
  if
  :: pst[a] != CS_IDLE && lr_b[a] == b -> pchg[a] = 1   /* newer than the report in flight */
  :: else -> skip
  fi
}

inline last_issued() {         /* state.last_issued: the highest number still out */
  last = EMPTY;
  for (i : 0 .. NN-1) {
    if
    :: holder[i] == a+1 -> last = i
    :: else -> skip
    fi
  }
}

inline pos_reply() {
  if
  :: pkind[a] == P_NEXT -> pcall[a]++
  :: else -> skip
  fi;
  ps[a] = PS_IDLE; pkind[a] = 0; parg[a] = 0; ares[a] = 0
}
/* committed and not answered yet is a state of its own only if a crash may still come */
#define POS_REPLY_NOW if :: !CAN_CRASH -> pos_reply() :: else -> skip fi

proctype Agent(byte a) {
  byte i, j, b, o, n, last, c;
end_a:
  do
  /* ---------------- refill: Refiller._refill (from tick: _retry_stored or _wants) ------- */
  :: atomic {
       rst[a] == CS_IDLE && REFILL_WANTED(a) ->
       rtry[a] = 0; rtgt[a] = cur_addr[a];
       if
       :: pend[a] == 0 ->
          ridc[a]++;
#ifdef MUT_SEND_BEFORE_STORE
          vrid[a] = a*MAXREQ + ridc[a]                        /* stored after sending */
#else
          pend[a] = a*MAXREQ + ridc[a];                       /* ledger.add_pending_request */
          printf("STEP agent%d: stores request %d\n", a, pend[a])
#endif
       :: else ->                                             /* the stored id, again */
          if
          :: resume[a] -> WITNESS(W_RESUME)
          :: else -> skip
          fi
       fi;
       rst[a] = CS_READY;
       /* stored and not sent yet is a state of its own only if a crash may still come */
       if
       :: !CAN_CRASH -> send_range()
       :: else -> skip
       fi
     }
  :: atomic { rst[a] == CS_READY -> send_range() }
  :: d_step {                                                 /* MUT_SEND_BEFORE_STORE */
       rst[a] == CS_UNSTORED -> pend[a] = vrid[a]; vrid[a] = 0; rst[a] = CS_WAIT;
       printf("STEP agent%d: stores request %d (after sending it)\n", a, pend[a]) }
  :: atomic {                                                 /* the reply */
       rst[a] == CS_WAIT && rep_st[a*2] != R_NONE ->
       if
       :: rep_st[a*2] == R_GRANT ->                          /* AddGrant: one ledger tx */
          b = rep_b[a*2];
          if
          :: HELD(a,b) -> skip                                /* has_grant: already in */
          :: else ->
             assert(grants_ascending_per_branch && (held[a] >> b) == 0);
             printf("STEP agent%d: takes booklet %d in, drops request %d\n", a, b, pend[a]);
             held[a] = held[a] | (1 << b);
             cur[J(a,b)] = 0; hw[J(a,b)] = 0; skp[J(a,b)] = 0; fin[J(a,b)] = 0;
             dirty[J(a,b)] = 0
          fi;
          pend[a] = 0; cur_addr[a] = rtgt[a]; end_call(K_RANGE); refill_over()
       :: rep_st[a*2] == R_REFUSED ->                        /* HQ refused: drop the id */
          printf("STEP agent%d: request %d refused: dropped\n", a, pend[a]);
          pend[a] = 0; cur_addr[a] = rtgt[a]; end_call(K_RANGE); refill_over()
       :: rep_st[a*2] == R_UNAVAIL && rtry[a] == 0 ->        /* the next address */
          end_call(K_RANGE); rtry[a] = 1; rtgt[a] = 1 - rtgt[a]; send_range()
       :: rep_st[a*2] == R_UNAVAIL && rtry[a] != 0 ->        /* HqUnreachable: keep the id */
          printf("STEP agent%d: HQ unreachable, keeps request %d\n", a, pend[a]);
          WITNESS(W_UNREACHABLE);
          end_call(K_RANGE); refill_over()
       fi;
       b = 0
     }
  :: atomic {                                                 /* the deadline expires */
       rst[a] == CS_WAIT && rep_st[a*2] == R_NONE && CAN_TO ->
       nto++; nfault++; ab[a*2]++; end_call(K_RANGE);
       printf("STEP agent%d: the range request's deadline expires\n", a);
       if
       :: rtry[a] == 0 -> rtry[a] = 1; rtgt[a] = 1 - rtgt[a]; send_range()
       :: else -> refill_over()
       fi
     }

  /* ---------------- usage reports: Reporter.flush ---------------- */
  :: atomic {
       pst[a] == CS_IDLE && ANY_REPORTABLE(a) ->
       b = 0;
       do                                                     /* ledger.unreported, grant order */
       :: REPORTABLE(a,b) -> break
       :: else -> b++
       od;
       if
       :: !fin[J(a,b)] -> nmid[a]++
       :: else -> skip
       fi;
       lr_b[a] = b; lr_nx[a] = hw[J(a,b)]; lr_fin[a] = fin[J(a,b)];
       lr_all[a] = skp[J(a,b)]; lr_sk[a] = skp[J(a,b)] & ~ack_sk[J(a,b)];   /* Reporter._news */
       if
       :: lr_sk[a] != lr_all[a] -> WITNESS(W_NEW_SKIPS_ONLY)
       :: else -> skip
       fi;
       lr_valid[a] = 1; pchg[a] = 0; ptry[a] = 0; ptgt[a] = cur_addr[a];
       send_report();
       b = 0
     }
  :: atomic {
       pst[a] == CS_WAIT && rep_st[a*2+1] != R_NONE ->
       if
       :: rep_st[a*2+1] == R_ACK ->                          /* ledger.mark_reported */
          if
          :: !pchg[a] -> dirty[J(a, lr_b[a])] = 0             /* no newer version since */
          :: else -> skip
          fi;
          if                                                  /* Reporter._remember */
          :: lr_fin[a] -> ack_sk[J(a, lr_b[a])] = 0
          :: else -> ack_sk[J(a, lr_b[a])] = lr_all[a]
          fi;
          cur_addr[a] = ptgt[a]; end_call(K_REPORT); report_over()
       :: rep_st[a*2+1] == R_REFUSED -> cur_addr[a] = ptgt[a]; end_call(K_REPORT); report_over()
       :: rep_st[a*2+1] == R_UNAVAIL && ptry[a] == 0 ->      /* the same report, next address */
          end_call(K_REPORT); ptry[a] = 1; ptgt[a] = 1 - ptgt[a]; send_report()
       :: rep_st[a*2+1] == R_UNAVAIL && ptry[a] != 0 -> end_call(K_REPORT); report_over()
       fi
     }
  :: atomic {
       pst[a] == CS_WAIT && rep_st[a*2+1] == R_NONE && CAN_TO ->
       nto++; nfault++; ab[a*2+1]++; end_call(K_REPORT);
       printf("STEP agent%d: the usage report's deadline expires\n", a);
       if
       :: ptry[a] == 0 -> ptry[a] = 1; ptgt[a] = 1 - ptgt[a]; send_report()
       :: else -> report_over()
       fi
     }

  /* ---------------- POS calls (one ledger transaction each, then the reply) ---------------- */
  :: d_step {                                                 /* NextNumbers(1, request_id=c) */
       (ps[a] == PS_IDLE && pcall[a] < CALLS(a)) || (ps[a] == PS_LOST && pkind[a] == P_NEXT) ->
       if
       :: ps[a] == PS_IDLE -> pkind[a] = P_NEXT; parg[a] = pcall[a] + 1
       :: else -> skip                                        /* the retry: the same id */
       fi;
       c = parg[a];
       if
       :: prq[a*KCALLS + c-1] != 0 ->                         /* known id: the same number */
          n = prq[a*KCALLS + c-1] - 1;
          assert(replay_returns_the_callers_own_number && holder[n] == a+1);
          printf("STEP agent%d: POS call %d again: the same number %d\n", a, c, n);
          WITNESS(W_REPLAY);
          ares[a] = n
       :: else ->
          b = 0;                                              /* take: first open grant left */
          do
          :: b < NB && OPEN(a,b) && cur[J(a,b)] < BS && !ended -> break
          :: b < NB && !(OPEN(a,b) && cur[J(a,b)] < BS && !ended) -> b++
          :: b == NB -> break
          od;
          if
          :: b == NB -> ares[a] = EMPTY                       /* BufferEmpty */
          :: else ->
             j = J(a,b); o = cur[j]; n = b*BS + o;
             last_issued();
             assert(no_number_handed_to_two_pos_calls && holder[n] == 0);
             assert(numbers_ascending_per_branch && (last == EMPTY || n > last));
             assert(a_blank_number_is_never_issued && (skp[j] & (1 << o)) == 0 &&
                    !(g_owner[b] == a+1 && (g_skip[b] & (1 << o)) != 0));
             holder[n] = a+1; nout[a]++;                      /* insert_issued */
             cur[j] = o+1;                                    /* set_cursor */
             if
             :: hw[j] < cur[j] -> hw[j] = cur[j]
             :: else -> skip
             fi;
             touch(j, b);
             prq[a*KCALLS + c-1] = n+1;                       /* insert_pos_request */
             printf("STEP agent%d: POS call %d gets number %d\n", a, c, n);
             ares[a] = n
          fi
       fi;
       ps[a] = PS_TAKEN; POS_REPLY_NOW;
       b = 0; j = 0; o = 0; n = 0; last = 0; c = 0; i = 0
     }
  :: atomic {                                                 /* GiveBack(n) */
       (ps[a] == PS_IDLE && pgb[a] < GBS(a) && nout[a] > 0) ||
       (ps[a] == PS_LOST && pkind[a] == P_GIVE) ->
       if
       :: ps[a] == PS_IDLE ->                                 /* the POS gives back its oldest */
          pkind[a] = P_GIVE; pgb[a]++;                        /* or its newest number */
          n = 0;
          do
          :: holder[n] == a+1 -> break
          :: else -> n++
          od;
          if
          :: skip
          :: n = NN - 1;
             do
             :: holder[n] == a+1 -> break
             :: else -> n--
             od
          fi;
          parg[a] = n
       :: else -> n = parg[a]                                 /* the retry */
       fi;
       if
       :: holder[n] != a+1 -> ares[a] = EMPTY                 /* Refused: not out */
       :: else ->
          b = n / BS; o = n % BS; j = J(a,b);
          last_issued();
          if                                                  /* _rewound / rewind_on_give_back */
          :: !fin[j] && last == n && cur[j] == o+1 -> cur[j] = o;            /* REUSED */
             printf("STEP agent%d: number %d given back: re-used\n", a, n);
             WITNESS(W_REUSED)
          :: else -> skp[j] = skp[j] | (1 << o);                             /* SKIPPED */
             printf("STEP agent%d: number %d given back: skipped\n", a, n);
             WITNESS(W_SKIPPED)
          fi;
          holder[n] = 0; nout[a]--;                           /* remove_issued */
          touch(j, b);
          ares[a] = 0
       fi;
       ps[a] = PS_TAKEN; POS_REPLY_NOW;
       b = 0; j = 0; o = 0; n = 0; last = 0; i = 0
     }
  :: d_step { ps[a] == PS_TAKEN -> pos_reply() }            /* the reply reaches the POS */

  /* ---------------- period end: FinalizeEnded ---------------- */
  :: d_step {
       ended && ANY_OPEN(a) ->
       for (b : 0 .. NB-1) {
         j = J(a,b);
         if
         :: OPEN(a,b) ->
            if                                                /* skipped_at_close */
            :: cur[j] < hw[j] -> skp[j] = skp[j] | (((1 << hw[j]) - 1) & ~((1 << cur[j]) - 1));
               WITNESS(W_CLOSE_SKIPS)
            :: else -> skip
            fi;
            fin[j] = 1; touch(j, b);                          /* set_final */
            printf("STEP agent%d: closes booklet %d, skipped %d\n", a, b, skp[j])
         :: else -> skip
         fi
       }
       b = 0; j = 0
     }
  od
}

/* the agent process is killed between two steps and started again: its memory is lost, the
 * ledger stays; every open call is abandoned (a reply that still comes is not received) */
inline crash_agent(a) {
  if
  :: rst[a] == CS_WAIT || rst[a] == CS_UNSTORED -> ab[a*2]++
  :: else -> skip
  fi;
  if
  :: pst[a] == CS_WAIT -> ab[a*2+1]++
  :: else -> skip
  fi;
  wait_r[a*2] = 0; rep_st[a*2] = R_NONE; rep_b[a*2] = 0;
  wait_r[a*2+1] = 0; rep_st[a*2+1] = R_NONE; rep_b[a*2+1] = 0;
  rst[a] = CS_IDLE; rtry[a] = 0; rtgt[a] = 0; vrid[a] = 0;
  pst[a] = CS_IDLE; pchg[a] = 0; ptry[a] = 0; ptgt[a] = 0;
  cur_addr[a] = 0; ares[a] = 0; lr_all[a] = 0;
  FORGET_ACKS(a);                                 /* the next report sends every skip again */
  if
  :: ps[a] == PS_TAKEN -> ps[a] = PS_LOST         /* the POS saw its call fail */
  :: else -> skip
  fi;
  resume[a] = (pend[a] != 0)                      /* the first tick after a start */
}

/* ================================================================ environment */

proctype Env() {
  byte a;
end_env:
  do
#ifndef NOEND
  :: d_step { !ended -> ended = 1; printf("STEP clock: the period ends\n") }
#endif
  :: d_step { CAN_EXP && etcd_leader != 0 -> nexp++; nfault++;
              printf("STEP etcd: the lease of hq%d expires\n", etcd_leader - 1);
              etcd_leader = 0 }
     /* the leader's lease expires in etcd (its replica paused, or its keep-alives lost) */
  :: atomic { CAN_CRASH && CRASH_MATTERS(0) -> ncrash++; nfault++; crash_agent(0);
              printf("STEP agent0: killed and started again\n") }
#if NA > 1
  :: atomic { CAN_CRASH && CRASH_MATTERS(1) -> ncrash++; nfault++; crash_agent(1);
              printf("STEP agent1: killed and started again\n") }
#endif
  :: atomic { CAN_KILL && !dead[0] && !dead[1] -> nkill++; nfault++;
       if                                           /* a replica is killed for good */
       :: a = 0
       :: a = 1
       fi;
       dead[a] = 1; leading[a] = 0;                 /* its lease runs out (TTL not modelled) */
       printf("STEP hq%d: killed\n", a);
       if
       :: etcd_leader == a+1 -> etcd_leader = 0
       :: else -> skip
       fi;
       a = 0 }
  :: atomic { CAN_DUP && (lr_valid[0] || lr_valid[NA-1]) ->   /* a report copy, again */
       if
       :: lr_valid[0] -> a = 0
       :: lr_valid[NA-1] -> a = NA-1
       fi;
       ndup++; nfault++;
       printf("STEP net: agent%d's last usage report arrives again\n", a);
       if
       :: nfull(hq[0]) -> hq[0] ! K_REPORT, a, NOTAG, lr_b[a], lr_nx[a], lr_sk[a], lr_fin[a]
       :: nfull(hq[1]) -> hq[1] ! K_REPORT, a, NOTAG, lr_b[a], lr_nx[a], lr_sk[a], lr_fin[a]
       fi;
       if                                           /* the reporter needs it no more */
       :: pst[a] == CS_IDLE -> lr_b[a] = 0; lr_nx[a] = 0; lr_sk[a] = 0; lr_fin[a] = 0;
                               lr_valid[a] = 0
       :: else -> skip
       fi;
       a = 0 }
#ifndef NOEND
  :: ended -> break                                 /* no more faults */
#else
  :: break
#endif
  od
}

/* ================================================================ the end: the books */

proctype Auditor() {
  byte a, b, o, n;
  bool issued;
  atomic {
    timeout ->                                      /* nothing can move any more */
    for (a : 0 .. NA-1) {
      assert(no_call_left_hanging && rst[a] == CS_IDLE && pst[a] == CS_IDLE);
#ifndef END_WEAK
      assert(every_request_resolved && pend[a] == 0);     /* retried until HQ answered */
#endif
    }
    for (b : 0 .. NB-1) {
      if
      :: g_owner[b] != 0 ->
         a = g_owner[b] - 1;
#ifndef END_WEAK
         assert(no_orphan_grant && HELD(a,b));
#else
         /* as built (F1): a grant not collected yet is still named by the agent's pending
            request id, and the next start (_resume) collects it: no grant is lost */
         assert(no_grant_lost && (HELD(a,b) || pend[a] == g_rid[b]));
#endif
         assert(every_grant_closed_and_reported && (!HELD(a,b) ||
                (g_final[b] && fin[J(a,b)] && !dirty[J(a,b)])));
         for (o : 0 .. BS-1) {
           n = b*BS + o;
           issued = (o < g_next[b] && (g_skip[b] & (1 << o)) == 0);
           /* what HQ counts issued (E0402 leaves it out) is exactly what the POS terminals
              kept; the rest is blank; nothing is held once the period is closed */
           assert(accounting_issued_blank_held_exact && issued == (holder[n] == a+1));
         }
      :: else ->
         for (o : 0 .. BS-1) {
           assert(accounting_issued_blank_held_exact && holder[b*BS + o] == 0)
         }
      fi
    }
    for (a : 0 .. NA-1) {
      for (b : 0 .. NB-1) {
        assert(no_orphan_grant && (!HELD(a,b) || g_owner[b] == a+1))
      }
    }
  }
}

init {
  atomic {
    run Worker(0); run Worker(1); run Elector(0); run Elector(1);
    run Agent(0);
#if NA > 1
    run Agent(1);
#endif
    run Env();
#ifndef NOEND
    run Auditor()
#endif
  }
}

#ifdef LIVE
/* While the period is open, a range request the agent stored is eventually answered (granted,
 * or refused because the pool is empty), as long as one replica and etcd live: run with -DNOEND
 * -DGIVEBACKS=0 and pan -a -f (weak fairness); every fault is bounded as above. */
ltl request_eventually_answered {
  [] ((pend[0] != 0) -> <> (pend[0] == 0))
}
#endif
