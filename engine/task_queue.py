"""Tasks handed out one at a time to the threads of a parallel loop.

``prange`` gives each thread a fixed share of the iterations, so a loop ends
only when its slowest thread does: while the window's UI thread paints on one
of two cores, one thread's share waits and the other core idles (a pass over a
million points took 45-60 ms so, against 24-28 alone).  Here every thread runs
``for _ in prange(WORKERS)`` and each iteration takes the next task from a
shared counter until none is left, so whichever thread is running does the work.

Each task writes only its own slots (per-chunk statistics, its own image rows),
reduced afterwards in task order, so results never depend on which thread did
what.  Usage::

    counter = np.zeros(1, np.int64)
    for _ in prange(WORKERS):
        while True:
            task = take_task(counter)
            if task >= n_tasks:
                break
            ...

Two things numba does not know about ``take_task``: that it writes ``counter`` (so never
read the counter after the loop in the same function: the read may be moved before it),
and that a kernel calling it depends on this file (its cache is not invalidated when this
module changes: clear ``__pycache__``'s ``*.nbi`` / ``*.nbc`` after editing it).
"""

from numba import types
from numba.extending import intrinsic

# Iterations of the outer prange: at least the thread count, whatever it is (the
# first iteration of a thread takes tasks until none is left; the others find none).
WORKERS = 64


@intrinsic
def take_task(typingctx, counter):
    """The next task's number: counter[0], atomically incremented (int64 array)."""
    if not (isinstance(counter, types.Array) and counter.dtype == types.int64):
        return None

    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        one = context.get_constant(types.int64, 1)
        # a counter needs no ordering with other memory: tasks share nothing, and the
        # end of the parallel loop is the barrier before anyone reads their results
        return builder.atomic_rmw("add", array.data, one, "monotonic")

    return types.int64(counter), codegen
