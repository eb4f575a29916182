# Values for the workload's variables, applied automatically: any
# *.mrqavars.hcl file in the folder is. A -var-file or -var still wins.
team = "the example team"
