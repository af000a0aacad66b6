"""Domain events of the review that other apps hook into without verification importing them.

submission_approved is sent inside the final decision's transaction, after the status moved to
approved and the merge ran, with `submission` and `officer`. A receiver's writes commit or roll
back with the approval, and an exception it raises refuses the approval (e.g. skts refusing a
letter for a record that ended in the meantime); work outside the database belongs in
`transaction.on_commit` or a task queued with `delay_on_commit`.
"""

from django.dispatch import Signal

submission_approved = Signal()
