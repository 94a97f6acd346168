"""Execution: the plan of steps, the work folder, the executors that run steps, and the runner that
drives them. Stages know nothing of this package; they only implement the contract in pipeline.stage."""
