"""crmcore.value"""
