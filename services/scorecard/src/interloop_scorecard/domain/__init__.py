"""Pure scorecard domain: templates, scorecards and the reliability/fairness statistics engine.

Nothing in here does I/O, speaks protobuf or builds SQL; the rpc/ and store/ layers translate to and from it.
"""
