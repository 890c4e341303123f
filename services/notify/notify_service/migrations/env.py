from revisit_common.migrations import run_env

run_env()
