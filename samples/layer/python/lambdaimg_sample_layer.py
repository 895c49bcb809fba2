"""Part of lambdaimg's sample layer, found on sys.path through /opt/python."""
NAME = "lambdaimg sample layer (python)"
