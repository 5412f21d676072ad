"""Chat delivery bookkeeping: events already handled (exactly-once) and the approval cards sent to approvers."""
