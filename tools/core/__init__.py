"""The tool framework: stages, risks, results, errors and their explanations, the tool context,
@tool and the registry, validators, redaction, the LangChain adapter. May import tools.aws.
"""
