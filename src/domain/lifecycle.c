/*
 * The work-order lifecycle as one table of allowed transitions (state x milestone).
 *
 * The main chain runs REPORTED -> ACCEPTED -> ... -> SIGNED -> CLOSED; states and
 * milestones of the chain share their numeric values. A chain milestone further along
 * than the state moves the record there; one that is not (late or repeated, e.g.
 * DISPATCHED once on site) is allowed and only fills the timeline. cfd_record_apply
 * folds the timeline in (event time, event id) order through this table, so a late
 * event is judged at its place in time, not at its arrival. An illegal cell met in an
 * open state means a predecessor has not arrived yet (the event is parked); met in
 * CLOSED or CANCELLED it is a rejection.
 */
#include "confirmd/record.h"

#define ILL (-1)  /* illegal: the event is rejected */
#define STAY (-2) /* allowed; the state does not change */

/* Short column names so that each row reads across one line. */
#define REP CFD_STATE_REPORTED
#define ACC CFD_STATE_ACCEPTED
#define DSP CFD_STATE_DISPATCHED
#define ENG CFD_STATE_ENGINEER_ACCEPTED
#define CON CFD_STATE_CONTACTED
#define APT CFD_STATE_APPOINTED
#define DEP CFD_STATE_DEPARTED
#define ONS CFD_STATE_ON_SITE
#define DIA CFD_STATE_DIAGNOSED
#define RES CFD_STATE_RESTORED
#define SIG CFD_STATE_SIGNED
#define CLO CFD_STATE_CLOSED
#define CAN CFD_STATE_CANCELLED
#define REO CFD_STATE_REOPENED
#define ABS CFD_STATE_CUSTOMER_ABSENT
#define WAI CFD_STATE_SIGNATURE_WAIVED

/*
 * Row: the current state. Column: the milestone, in enum order
 *   NONE REPORTED ACCEPTED DISPATCHED ENG_ACCEPTED CONTACTED APPOINTMENT DEPARTED
 *   ARRIVED DIAGNOSED RESTORED SIGNED CLOSED CANCELLED REOPENED ALARM
 *   RESCHEDULED ABSENT WAIVED PART PAUSED RESUMED EVENT_REPORT COMPLAINT REPEAT_FAULT
 * Cell: the next state, STAY or ILL. MILESTONE_NONE is never valid.
 *
 * Non-obvious cells:
 * - SIGNED needs the engineer on site (ON_SITE, DIAGNOSED) or the service restored
 *   (RESTORED, possibly remotely): the form is signed at the end of the visit, even
 *   when the fault was not repaired. WAIVED (signature refused, customer unreachable)
 *   completes the form where SIGNED would, and also after an absence: an unreachable
 *   customer leaves only the visit note.
 * - CLOSED needs RESTORED, SIGNED or WAIVED. Closing a diagnosed-but-unrestored order
 *   without a signature is not modelled; CANCELLED covers orders that end without a
 *   repair.
 * - REOPENED ("the fault returns" before the close) needs a restoration to undo:
 *   RESTORED, SIGNED or WAIVED. A second REOPENED while reopened is a repeat. After
 *   CLOSED or CANCELLED a returning fault is a new work order, never a reopen.
 * - REOPENED rows like ACCEPTED: the engineer goes again, so the chain restarts after
 *   acceptance, and SIGNED/CLOSED wait for a new visit or restoration.
 * - RESCHEDULED needs an appointment to move (APPOINTED, DEPARTED: the visit is put
 *   off, CUSTOMER_ABSENT: the second appointment); on site it only fills the timeline.
 * - CUSTOMER_ABSENT: the engineer at the door finds nobody. It comes after the arrival
 *   (the seed's case: at the door at the agreed time) or instead of one, any time after
 *   acceptance; once diagnosed, the customer was there. From it a second appointment,
 *   a new departure or arrival, a remote restoration or a waiver move on.
 * - A repeated REPORTED in an open order only updates the report's fields; after
 *   CLOSED/CANCELLED a new report is a new work order, not this one.
 * - ALARM, PART, PAUSED, RESUMED, EVENT_REPORT, COMPLAINT and REPEAT_FAULT are
 *   informational everywhere once the order is open, terminal states included: the
 *   event report is due after the close, parts and pauses may be entered
 *   retroactively, and the service's repeat-fault link may come late. In NONE they
 *   are parked by cfd_record_apply.
 */
static const signed char transitions[CFD_STATE_COUNT][CFD_MS_COUNT] = {
    /*                   NONE REP   ACC   DSP   ENG   CON   APT   DEP   ARR   DIA   RES   SIG   CLO   CAN   REO   ALM   RSC   ABS   WAI   PRT   PAU   RSM   EVR   CMP   RPT */
    [CFD_STATE_NONE] = {ILL, REP, ILL, ILL, ILL, ILL, ILL, ILL, ILL, ILL, ILL, ILL, ILL,
                        ILL, ILL, ILL, ILL, ILL, ILL, ILL, ILL, ILL, ILL, ILL, ILL},
    [REP] = {ILL, STAY, ACC,  DSP, ENG, CON, APT,  DEP,  ONS,  DIA,  RES,  ILL, ILL,
             CAN, ILL,  STAY, ILL, ILL, ILL, STAY, STAY, STAY, STAY, STAY, STAY},
    [ACC] = {ILL, STAY, STAY, DSP, ENG, CON, APT,  DEP,  ONS,  DIA,  RES,  ILL, ILL,
             CAN, ILL,  STAY, ILL, ABS, ILL, STAY, STAY, STAY, STAY, STAY, STAY},
    [DSP] = {ILL, STAY, STAY, STAY, ENG, CON, APT,  DEP,  ONS,  DIA,  RES,  ILL, ILL,
             CAN, ILL,  STAY, ILL,  ABS, ILL, STAY, STAY, STAY, STAY, STAY, STAY},
    [ENG] = {ILL, STAY, STAY, STAY, STAY, CON, APT,  DEP,  ONS,  DIA,  RES,  ILL, ILL,
             CAN, ILL,  STAY, ILL,  ABS,  ILL, STAY, STAY, STAY, STAY, STAY, STAY},
    [CON] = {ILL, STAY, STAY, STAY, STAY, STAY, APT,  DEP,  ONS,  DIA,  RES,  ILL, ILL,
             CAN, ILL,  STAY, ILL,  ABS,  ILL,  STAY, STAY, STAY, STAY, STAY, STAY},
    [APT] = {ILL, STAY, STAY, STAY, STAY, STAY, STAY, DEP,  ONS,  DIA,  RES,  ILL, ILL,
             CAN, ILL,  STAY, STAY, ABS,  ILL,  STAY, STAY, STAY, STAY, STAY, STAY},
    [DEP] = {ILL, STAY, STAY, STAY, STAY, STAY, STAY, STAY, ONS,  DIA,  RES,  ILL, ILL,
             CAN, ILL,  STAY, APT,  ABS,  ILL,  STAY, STAY, STAY, STAY, STAY, STAY},
    [ONS] = {ILL, STAY, STAY, STAY, STAY, STAY, STAY, STAY, STAY, DIA,  RES,  SIG, ILL,
             CAN, ILL,  STAY, STAY, ABS,  WAI,  STAY, STAY, STAY, STAY, STAY, STAY},
    [DIA] = {ILL, STAY, STAY, STAY, STAY, STAY, STAY, STAY, STAY, STAY, RES,  SIG, ILL,
             CAN, ILL,  STAY, STAY, ILL,  WAI,  STAY, STAY, STAY, STAY, STAY, STAY},
    [RES] = {ILL, STAY, STAY, STAY, STAY, STAY, STAY, STAY, STAY, STAY, STAY, SIG, CLO,
             CAN, REO,  STAY, ILL,  ILL,  WAI,  STAY, STAY, STAY, STAY, STAY, STAY},
    [SIG] = {ILL, STAY, STAY, STAY, STAY, STAY, STAY, STAY, STAY, STAY, STAY, STAY, CLO,
             CAN, REO,  STAY, ILL,  ILL,  STAY, STAY, STAY, STAY, STAY, STAY, STAY},
    [CLO] = {ILL, ILL, ILL,  ILL, ILL, ILL, ILL,  ILL,  ILL,  ILL,  ILL,  ILL, ILL,
             ILL, ILL, STAY, ILL, ILL, ILL, STAY, STAY, STAY, STAY, STAY, STAY},
    [CAN] = {ILL, ILL, ILL,  ILL, ILL, ILL, ILL,  ILL,  ILL,  ILL,  ILL,  ILL, ILL,
             ILL, ILL, STAY, ILL, ILL, ILL, STAY, STAY, STAY, STAY, STAY, STAY},
    [REO] = {ILL, STAY, STAY, DSP, ENG, CON, APT,  DEP,  ONS,  DIA,  RES,  ILL, ILL,
             CAN, STAY, STAY, ILL, ABS, ILL, STAY, STAY, STAY, STAY, STAY, STAY},
    [ABS] = {ILL, STAY, STAY, STAY, STAY, STAY, APT,  DEP,  ONS,  DIA,  RES,  ILL, ILL,
             CAN, ILL,  STAY, APT,  STAY, WAI,  STAY, STAY, STAY, STAY, STAY, STAY},
    [WAI] = {ILL, STAY, STAY, STAY, STAY, STAY, STAY, STAY, STAY, STAY, STAY, SIG, CLO,
             CAN, REO,  STAY, ILL,  ILL,  STAY, STAY, STAY, STAY, STAY, STAY, STAY},
};

static int cell(cfd_state s, cfd_milestone m)
{
    if ((int)s < 0 || (int)s >= CFD_STATE_COUNT || (int)m < 0 || (int)m >= CFD_MS_COUNT)
        return ILL;
    return transitions[s][m];
}

bool cfd_lifecycle_is_valid(cfd_state s, cfd_milestone m)
{
    return cell(s, m) != ILL;
}

/* An illegal pair leaves the state as it is; callers check is_valid first. */
cfd_state cfd_lifecycle_next(cfd_state s, cfd_milestone m)
{
    int next = cell(s, m);

    return next < 0 ? s : (cfd_state)next;
}
